"""Word lists for seed customers: Norwegian and German names, streets and places.

The lists are ordered roughly by frequency; ``seed.py`` draws from them with Zipf-like weights
so that a search for a common surname matches about 1-3% of a client's customers and a rare
one a handful, as in a real customer base.
"""


def _words(text: str, separator: str | None = None) -> tuple[str, ...]:
    return tuple(word.strip() for word in text.split(separator))


NO_FIRST = _words(
    "Jan Per Bjørn Ole Lars Kjell Knut Arne Svein Thomas Hans Geir Tor Morten Terje Odd Erik "
    "Martin Andreas John Anders Rune Trond Tore Jon Harald Kristian Olav Gunnar Marius Stian "
    "Anne Inger Kari Marit Ingrid Liv Eva Berit Astrid Bjørg Hilde Anna Solveig Marianne "
    "Randi Ida Nina Maria Elisabeth Kristin Silje Ingeborg Tone Hanne Camilla Nora Emma Sofie "
    "Åse Øystein Ægir Sigrid Ragnhild Torbjørg Håkon Dag Eirik Vegard Sindre Magnus Jørgen"
)

NO_LAST = _words(
    "Hansen Johansen Olsen Larsen Andersen Pedersen Nilsen Kristiansen Jensen Karlsen "
    "Johnsen Pettersen Eriksen Berg Haugen Hagen Johannessen Andreassen Jacobsen Dahl "
    "Jørgensen Halvorsen Henriksen Lund Sørensen Jakobsen Moen Gundersen Iversen Strand "
    "Solberg Svendsen Eide Knutsen Martinsen Paulsen Bakken Kristoffersen Mathisen Lie "
    "Amundsen Nguyen Rasmussen Ali Lunde Solheim Berge Moe Nygård Bakke Kristensen Fredriksen "
    "Holm Lien Hauge Christensen Andresen Nielsen Knudsen Evensen Sæther Aas Myhre Hanssen "
    "Ahmed Haugland Thomassen Sivertsen Simonsen Danielsen Berntsen Sandvik Rønning Arnesen "
    "Antonsen Næss Vik Haug Ellingsen Thorsen Edvardsen Birkeland Isaksen Gulbrandsen Ruud "
    "Aasen Strøm Myklebust Tangen Ødegård Eliassen Helland Bøe Jenssen Aune Mikkelsen Tveit "
    "Brekke Abrahamsen Madsen Øien Ødegaard Skjelbred Fjeldstad Grøtting Våge Ulvestad"
)

DE_FIRST = _words(
    "Peter Michael Thomas Andreas Wolfgang Klaus Jürgen Stefan Christian Uwe Werner Hans "
    "Frank Bernd Ralf Markus Jörg Dieter Matthias Manfred Sabine Susanne Petra Monika Claudia "
    "Andrea Birgit Stefanie Nicole Ursula Renate Heike Karin Gabriele Julia Anja Katrin Jana "
    "Lukas Leon Finn Jonas Paul Felix Maximilian Lea Lena Hannah Mia Laura Sophie Marie Jörn"
)

DE_LAST = _words(
    "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch "
    "Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann "
    "Hartmann Lange Schmitt Werner Schmitz Krause Meier Lehmann Schmid Schulze Maier Köhler "
    "Herrmann König Walter Mayer Huber Kaiser Fuchs Peters Lang Scholz Möller Weiß Jung Hahn "
    "Schubert Vogel Friedrich Keller Günther Frank Berger Winkler Roth Beck Lorenz Baumann "
    "Franke Albrecht Schuster Simon Ludwig Böhm Winter Kraus Martin Schumacher Krämer Vogt "
    "Stein Jäger Otto Sommer Groß Seidel Heinrich Brandt Haas Schreiber Graf Schulte Dietrich "
    "Ziegler Kuhn Kühn Pohl Engel Horn Busch Bergmann Thomas Voigt Sauer Arnold Wolff Pfeiffer"
)

NO_STREETS = _words(
    "Storgata, Kirkeveien, Parkveien, Skolegata, Strandveien, Industriveien, Fjordveien, "
    "Bjørkeveien, Granveien, Solbakken, Nedre Slottsgate, Thereses gate, Trondheimsveien, "
    "Bogstadveien, Kongens gate, Dronningens gate, Øvre Slottsgate, Sandvikveien, Løkkeveien, "
    "Ringveien, Åsveien, Furuveien, Holmenkollveien, Markveien, Grensen",
    ",",
)

DE_STREETS = _words(
    "Hauptstraße, Schulstraße, Gartenstraße, Bahnhofstraße, Dorfstraße, Bergstraße, Birkenweg, "
    "Lindenstraße, Kirchstraße, Waldstraße, Ringstraße, Schillerstraße, Goethestraße, Mühlenweg, "
    "Am Markt, Friedhofstraße, Mozartstraße, Rosenweg, Feldstraße, Wiesenweg",
    ",",
)

NO_PLACES = (
    ("0150", "OSLO"),
    ("0255", "OSLO"),
    ("0372", "OSLO"),
    ("0557", "OSLO"),
    ("0870", "OSLO"),
    ("5003", "BERGEN"),
    ("5045", "BERGEN"),
    ("7010", "TRONDHEIM"),
    ("7030", "TRONDHEIM"),
    ("4006", "STAVANGER"),
    ("9008", "TROMSØ"),
    ("3015", "DRAMMEN"),
    ("1606", "FREDRIKSTAD"),
    ("4612", "KRISTIANSAND"),
    ("2317", "HAMAR"),
    ("6002", "ÅLESUND"),
    ("8006", "BODØ"),
    ("1337", "SANDVIKA"),
)

DE_PLACES = (
    ("10115", "Berlin"),
    ("10405", "Berlin"),
    ("20095", "Hamburg"),
    ("22765", "Hamburg"),
    ("80331", "München"),
    ("81667", "München"),
    ("50667", "Köln"),
    ("60311", "Frankfurt am Main"),
    ("70173", "Stuttgart"),
    ("40210", "Düsseldorf"),
    ("04109", "Leipzig"),
    ("01067", "Dresden"),
    ("28195", "Bremen"),
    ("30159", "Hannover"),
    ("90402", "Nürnberg"),
)

COMPANY_WORDS = _words(
    "Nordic Fjord Bygg Elektro Rør Transport Maling Data Regnskap Eiendom Fisk Vekst "
    "Handel Consult Service Digital Energi Tre Stål Marine Berg Vest Øst Sør Nord Polar "
    "Müller Bau Technik Logistik Medien Software Immobilien Werkstatt Sonne Alpen Rhein"
)

NO_COMPANY_FORMS = ("AS", "AS", "AS", "ASA", "ENK", "DA")
DE_COMPANY_FORMS = ("GmbH", "GmbH", "AG", "KG", "e.K.", "GmbH & Co. KG")

MAIL_DOMAINS = ("gmail.com", "online.no", "hotmail.com", "outlook.com", "web.de", "gmx.de")
