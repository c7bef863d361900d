"""Message templates for the demo, in English and German, with emojis.

Each intent has a clear sentiment so that ground truth (complaint, thanks, praise...) is
recognisable to a lexicon-based scorer; placeholders are filled by the generator.
"""

TEXTS: dict[str, dict[str, list[str]]] = {
    "question": {
        "en": [
            "How do I descale my {product}? The manual is not clear to me 🤔",
            "Does the {product} work with oat milk? Thinking about buying one",
            "Where can I find spare parts for the {product}?",
            "Is there a firmware update for the {product}? It keeps asking me",
        ],
        "de": [
            "Wie entkalke ich meine {product}? Die Anleitung ist mir nicht klar 🤔",
            "Funktioniert die {product} auch mit Hafermilch?",
            "Wo bekomme ich Ersatzteile für die {product}?",
            "Gibt es ein Update für die {product}? Sie fragt ständig danach",
        ],
    },
    "complaint": {
        "en": [
            "My {product} broke after two weeks. Really disappointed and annoyed 😡",
            "Terrible experience, the {product} leaks everywhere. Worst purchase this year 👎",
            "Still waiting for my refund. This is unacceptable and frustrating",
        ],
        "de": [
            "Meine {product} ist nach zwei Wochen kaputt. Total enttäuscht und verärgert 😡",
            "Schlechte Erfahrung, die {product} tropft überall. Ärgerlich 👎",
            "Ich warte immer noch auf meine Erstattung. Das ist inakzeptabel und frustrierend",
        ],
    },
    "urgent": {
        "en": [
            "HELP!!! My {product} is smoking, is it dangerous?? 😱",
            "Urgent: the {product} shows error E7 and won't turn off, scared it will break!!",
        ],
        "de": [
            "HILFE!!! Meine {product} raucht, ist das gefährlich?? 😱",
            "Dringend: die {product} zeigt Fehler E7 und geht nicht aus, habe Angst!!",
        ],
    },
    "followup_angry": {
        "en": ["Hello?? Nobody answers. Awful service 😤", "Still no reply. I am done with you."],
        "de": ["Hallo?? Niemand antwortet. Schlechter Service 😤", "Immer noch keine Antwort. Schlimm."],
    },
    "thanks": {
        "en": ["Thanks, that worked!", "Ok thank you, got it.", "Thanks for the quick answer 👍"],
        "de": ["Danke, hat funktioniert!", "Ok danke, verstanden.", "Danke für die schnelle Antwort 👍"],
    },
    "delighted": {
        "en": [
            "Wow, you saved my day! Amazing support, I love my {product} again 😍🎉",
            "That is fantastic, thank you so much! Best customer service ever ❤️",
        ],
        "de": [
            "Wow, ihr habt meinen Tag gerettet! Super Support, ich liebe meine {product} wieder 😍🎉",
            "Das ist großartig, vielen herzlichen Dank! Bester Kundenservice überhaupt ❤️",
        ],
    },
    "relieved": {
        "en": ["Phew, thank you so much, that really helped and calmed me down 🙏😊"],
        "de": ["Puh, vielen Dank, das hat wirklich geholfen und mich beruhigt 🙏😊"],
    },
    "praise": {
        "en": [
            "My morning {product} from {brand} is the best part of the day ☕😍",
            "Honestly {brand} makes the best coffee machines. Love it! ❤️",
            "Great coffee, great people. {brand} rocks 🎉",
        ],
        "de": [
            "Mein Morgenkaffee aus der {product} von {brand} ist das Beste am Tag ☕😍",
            "Ehrlich, {brand} baut die besten Kaffeemaschinen. Super! ❤️",
            "Toller Kaffee, tolle Leute. {brand} ist großartig 🎉",
        ],
    },
    "rant": {
        "en": [
            "{brand} is a joke. Overpriced junk and useless support 🤬",
            "Never buy {brand}. Horrible, awful, broken. Hate it 👎👎",
            "Another day, another broken {brand} machine. Pathetic.",
        ],
        "de": [
            "{brand} ist ein Witz. Überteuerter Schrott und nutzloser Support 🤬",
            "Kauft nie {brand}. Schrecklich, furchtbar, kaputt. Hasse es 👎👎",
            "Schon wieder eine kaputte {brand} Maschine. Erbärmlich.",
        ],
    },
    "outage": {
        "en": [
            "{brand} app is down AGAIN, my machine won't brew. Ridiculous and infuriating 😡",
            "Cannot start my {product}, the {brand} cloud is dead. Terrible! #BrewlyDown",
            "Thanks for nothing {brand}, no coffee this morning because your servers failed 🤬",
        ],
        "de": [
            "Die {brand} App ist SCHON WIEDER down, meine Maschine brüht nicht. Lächerlich 😡",
            "Kann meine {product} nicht starten, die {brand} Cloud ist tot. Furchtbar! #BrewlyDown",
        ],
    },
    "chat": {
        "en": [
            "#BrewlyChat my tip: grind fresh and use filtered water ☕",
            "Loving this #BrewlyChat, my favourite is the flat white from the {product} 😊",
        ],
        "de": [
            "#BrewlyChat mein Tipp: frisch mahlen und gefiltertes Wasser nehmen ☕",
            "Toller #BrewlyChat, mein Favorit ist der Flat White aus der {product} 😊",
        ],
    },
    "competitor": {
        "en": [
            "Just got a {competitor} machine, pretty good so far",
            "{competitor} support answered in five minutes, impressive 👍",
            "My {competitor} grinder is loud and annoying",
        ],
        "de": [
            "Habe jetzt eine {competitor} Maschine, bisher ganz gut",
            "Der {competitor} Support hat in fünf Minuten geantwortet, stark 👍",
        ],
    },
    "spam": {
        "en": [
            "🎁 GIVEAWAY 🎁 win a free iPhone! follow + tag 3 friends {brand} #win #free",
            "Crypto signals 🚀🚀 100x guaranteed, DM me {brand}",
        ],
        "de": ["🎁 GEWINNSPIEL 🎁 gewinne ein iPhone! folgen + 3 Freunde markieren {brand} #gewinnen"],
    },
    "neutral": {
        "en": ["Saw the new {product} in a shop today.", "Which grind size do you use?"],
        "de": ["Heute die neue {product} im Laden gesehen.", "Welchen Mahlgrad nehmt ihr?"],
    },
    "brand_answer": {
        "en": [
            "Hi! Here is how it works: hold the descale button for 3 seconds and follow the lights.",
            "Thanks for asking! Yes, it works well. Details are in our help centre.",
        ],
        "de": [
            "Hallo! So geht's: Entkalkungstaste 3 Sekunden halten und den Lichtern folgen.",
            "Danke für die Frage! Ja, das klappt. Details findest du in unserem Hilfe-Center.",
        ],
    },
    "brand_apology": {
        "en": [
            "We are really sorry! We are sending you a replacement right away, no cost.",
            "Sorry for the trouble. We have refunded you today and added a voucher.",
        ],
        "de": [
            "Das tut uns sehr leid! Wir schicken dir sofort kostenlos ein Ersatzgerät.",
            "Entschuldige den Ärger. Wir haben dir heute erstattet und einen Gutschein beigelegt.",
        ],
    },
    "brand_calm": {
        "en": ["Please unplug it now. It is safe once unplugged; we will call you in 10 minutes."],
        "de": ["Bitte zieh jetzt den Stecker. Dann ist es sicher; wir rufen dich in 10 Minuten an."],
    },
    "brand_post": {
        "en": [
            "New roast of the month is here ☕ What do you think?",
            "Tip of the week: clean the milk frother daily for the best foam.",
            "Join our #BrewlyChat this week and share your favourite recipe!",
        ],
        "de": [
            "Die neue Röstung des Monats ist da ☕ Was meint ihr?",
            "Tipp der Woche: den Milchaufschäumer täglich reinigen.",
        ],
    },
}

PRODUCTS = ["Brewly One", "Brewly Duo", "Brewly Mini", "Brewly Grinder"]
