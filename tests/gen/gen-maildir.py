#!/usr/bin/env python3
"""gen-maildir.py: a deterministic, realistic Maildir for a B2B sales user.

    python3 tests/gen/gen-maildir.py --out DIR --count N [--seed S] [--config FILE] [--mbox FILE]

Writes N messages (Maildir at DIR with Maildir++ subfolders, and/or one mbox), the same bytes for
the same N and seed. Python 3 standard library only; see tests/gen/README.md.

How it works: a "world" (the user, colleagues, external organisations and their people, freemail
contacts, newsletters, notification services, mailing lists) is drawn from one seeded RNG; then
conversations are planned (who writes to whom, when, in which thread and folder), all from the same
RNG; then every planned message is rendered into MIME with its own RNG seeded from the plan, so
that rendering can run in worker processes without changing a byte.
"""

import argparse
import base64
import binascii
import calendar
import os
import quopri
import random
import sys
import time
import unicodedata
from itertools import accumulate
from email import utils as eutils
from email.charset import BASE64, QP, Charset
from email.generator import BytesGenerator
from email.header import Header
from email.message import Message
from email.policy import Compat32
from io import BytesIO


def fold_ascii(line, width=78):
    """Greedy folding at spaces (never right after the field name); a word longer than the width
    stays whole on its line."""
    out, cur = [], ""
    for n, word in enumerate(line.split(" ")):
        if n > 1 and cur and len(cur) + 1 + len(word) > width:
            out.append(cur)
            cur = " " + word
        else:
            cur = cur + " " + word if cur else word
    out.append(cur)
    return "\n".join(out)


class _Policy(Compat32):
    """compat32 with a fast path for the plain ASCII headers this script writes (most of them): the
    same folding at spaces, without building an email.header.Header for each. Anything else (raw
    8-bit bytes of the defect cases) goes the ordinary way."""

    def _fold(self, name, value, sanitize):
        if isinstance(value, str) and value.isascii():
            if "\n" in value:  # folded by us already
                return "%s: %s\n" % (name, value)
            line = "%s: %s" % (name, value)
            return (line if len(line) <= 78 else fold_ascii(line)) + "\n"
        return super()._fold(name, value, sanitize)


# Maildir files use LF; fold headers at 78 like most mailers.
POLICY = _Policy(linesep="\n", max_line_length=78)


class _Generator(BytesGenerator):
    """The email package's generator, writing a body in one piece when it needs no line-ending
    conversion (it otherwise writes base64 attachments line by line)."""

    def _write_lines(self, lines):
        if "\r" not in lines:
            self.write(lines)
        else:
            super()._write_lines(lines)

END = calendar.timegm((2025, 10, 31, 18, 0, 0))  # the newest mail; fixed for determinism
SPAN_DAYS = 3 * 365

CS_UTF8_B = Charset("utf-8")  # header_encoding BASE64
CS_UTF8_Q = Charset("utf-8")
CS_UTF8_Q.header_encoding = QP
CS_LATIN1_Q = Charset("iso-8859-1")  # header_encoding QP
CS_LATIN1_B = Charset("iso-8859-1")
CS_LATIN1_B.header_encoding = BASE64
CS_JIS = Charset("iso-2022-jp")  # header_encoding BASE64

# --------------------------------------------------------------------------------------------
# Name and word pools
# --------------------------------------------------------------------------------------------

FIRST = {
    "en": "James John Robert Michael David William Richard Joseph Thomas Charles Christopher Daniel Matthew "
          "Anthony Mark Steven Paul Andrew Joshua Kevin Brian George Edward Ronald Timothy Jason Ryan Jacob "
          "Gary Nicholas Eric Jonathan Stephen Larry Justin Scott Brandon Benjamin Samuel Gregory Alexander "
          "Patrick Frank Raymond Jack Dennis Jerry Tyler Aaron Henry Adam Nathan Peter Zachary Kyle Noah "
          "Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Lisa Nancy Betty Sandra "
          "Margaret Ashley Kimberly Emily Donna Michelle Carol Amanda Melissa Deborah Stephanie Rebecca Sharon "
          "Laura Cynthia Amy Kathleen Angela Shirley Brenda Emma Anna Pamela Nicole Samantha Katherine Christine "
          "Rachel Catherine Heather Olivia Sophie Chloe Lucy Hannah Grace Charlotte Megan Siobhan Aoife Niamh",
    "de": "Jürgen Klaus Günter Stefan Andreas Michael Thomas Frank Uwe Jörg Björn Sören Matthias Torsten "
          "Dirk Sven Lars Tobias Florian Maximilian Lukas Jonas Felix Moritz Philipp Sebastian Christoph Ralf "
          "Bernd Holger Wolfgang Dieter Horst Rüdiger Henrik Jan Tim Kai Nils Malte "
          "Sabine Petra Ursula Monika Brigitte Renate Karin Jutta Birgit Anja Katrin Nicole Stefanie Julia "
          "Anna Lena Hannah Lea Sophie Marie Johanna Charlotte Käthe Jördis Bärbel Annegret Doris Gisela "
          "Susanne Claudia Andrea Christiane Silke Heike Britta Maren Franziska Theresa",
    "fr": "François Jérôme Stéphane Sébastien Frédéric Cédric Rémi Hervé Éric Thierry Jean Pierre Michel "
          "Philippe Alain Nicolas Olivier Christophe Laurent Julien Guillaume Antoine Mathieu Benoît Gaël "
          "Hélène Élodie Cécile Mélanie Céline Valérie Sylvie Nathalie Isabelle Sandrine Aurélie Amélie "
          "Camille Léa Chloé Manon Inès Margaux Émilie Béatrice Françoise Noémie Zoé Anaïs",
    "es": "José Jesús Andrés Ramón Rubén Adrián Martín Sergio Javier Carlos Miguel Ángel Raúl Óscar Iván "
          "Álvaro Alejandro Pablo Diego Jorge Luis Manuel Fernando "
          "María Lucía Sofía Begoña Mónica Verónica Inés Raquel Carmen Pilar Rocío Nerea Marta Elena Laura "
          "Cristina Paula Ainhoa Itziar Núria",
    "it": "Giuseppe Giovanni Antonio Mario Luigi Francesco Angelo Vincenzo Pietro Salvatore Carlo Franco "
          "Niccolò Nicolò Luca Marco Andrea Stefano Alessandro Matteo Lorenzo Davide "
          "Giulia Chiara Francesca Federica Alessia Martina Sara Valentina Elisa Ilaria Silvia Paola Rosa",
    "nl": "Jan Pieter Johannes Hendrik Cornelis Willem Gerrit Dirk Bram Daan Sem Thijs Joost Maarten Sjoerd "
          "Anne Sanne Femke Lotte Eva Sophie Fleur Marloes Inge Anouk Mieke Geertje",
    "nordic": "Åke Björn Göran Håkan Jörgen Sören Jens Søren Ørjan Bjørn Anders Erik Lars Magnus Mikael Nils "
              "Ola Per Jussi Mikko Jukka Matti Pekka "
              "Åsa Märta Linnéa Ingrid Astrid Kristín Sigríður Maja Elin Sofia Ebba Freja Frida Kaisa Päivi "
              "Sørine Tove Liv",
    "pl": "Łukasz Paweł Michał Wojciech Grzegorz Jakub Piotr Krzysztof Tomasz Marcin Kamil Mateusz Bartłomiej "
          "Małgorzata Agnieszka Katarzyna Joanna Magdalena Żaneta Beata Ewa Anna Monika Dorota Aleksandra",
    "cz": "Jiří Petr Pavel Tomáš Jaroslav Miroslav Zdeněk Václav Lukáš Ondřej Radek "
          "Jana Eva Hana Lenka Kateřina Věra Lucie Alena Petra Markéta Zuzana",
    "tr": "Mehmet Mustafa Ahmet Ali Hüseyin Hasan İbrahim İsmail Osman Yusuf Murat Ömer Emre Çağlar "
          "Ayşe Fatma Emine Hatice Zeynep Elif Şule Gülşen Özlem Derya Büşra Selin",
    "pt": "João José Antônio Francisco Carlos Paulo Pedro Lucas Luiz Marcos Gabriel Rafael Fábio Sérgio "
          "Maria Ana Francisca Antônia Adriana Juliana Márcia Fernanda Patrícia Aline Luíza Letícia",
    "in": "Aarav Vivaan Aditya Vihaan Arjun Sai Rohan Rahul Amit Sanjay Vikram Rajesh Suresh Anil Deepak "
          "Priya Ananya Diya Isha Kavya Neha Pooja Sneha Lakshmi Meera Divya Swati",
}
LAST = {
    "en": "Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore Jackson Martin "
          "Lee Thompson White Harris Clark Lewis Robinson Walker Young Allen King Wright Scott Green Baker "
          "Adams Nelson Hill Campbell Mitchell Roberts Carter Phillips Evans Turner Parker Collins Edwards "
          "Stewart Morris Murphy Cook Rogers Morgan Cooper Peterson Reed Bailey Bell Kelly Howard Ward Cox "
          "O'Brien O'Connor McCarthy MacDonald Fitzgerald Hughes Price Bennett Wood Barnes Ross Henderson "
          "Coleman Jenkins Perry Powell Long Patterson Butler Simmons Foster Bryant Russell Griffin Hayes",
    "de": "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch Bauer "
          "Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange Schmitt "
          "Werner Schmitz Krause Meier Lehmann Schmid Schulze Maier Köhler Herrmann König Walter Mayer Huber "
          "Kaiser Fuchs Peters Lang Scholz Möller Weiß Jung Hahn Vogel Friedrich Keller Günther Frank Berger "
          "Winkler Roth Beck Lorenz Baumann Franke Albrecht Schuster Simon Ludwig Böhm Winter Kraus Martin "
          "Schumacher Krämer Vogt Stein Jäger Otto Groß Sommer Heinrich Brandt Haas Schreiber Graf Dietrich "
          "Ziegler Kühn Pohl Engel Horn Busch Bergmann Thomas Voigt Sauer Arnold Wolff Pfeiffer Mößner Gößling",
    "fr": "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefèbvre "
          "Michel Garcia David Bertrand Roux Vincent Fournier Morel Girard André Lefèvre Mercier Dupont "
          "Lambert Bonnet François Martinez Légaré Bélanger Chénier Gauthier Hébert Lévêque Pâris Ménard",
    "es": "García Rodríguez González Fernández López Martínez Sánchez Pérez Gómez Martín Jiménez Ruiz "
          "Hernández Díaz Moreno Muñoz Álvarez Romero Alonso Gutiérrez Navarro Torres Domínguez Vázquez "
          "Ramos Gil Ramírez Serrano Blanco Molina Morales Suárez Ortega Delgado Castro Ortiz Rubio Marín Núñez "
          "Peña Ibáñez",
    "it": "Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo Conti De Luca "
          "Mancini Costa Giordano Rizzo Lombardi Moretti Barbieri Fontana Santoro Mariani Rinaldi Caruso "
          "Ferrara Galli Martini Leone Longo Gentile Martinelli Vitale Lombardo Serra Coppola De Santis",
    "nl": "de_Jong Jansen de_Vries van_den_Berg van_Dijk Bakker Janssen Visser Smit Meijer de_Boer Mulder "
          "de_Groot Bos Vos Peters Hendriks van_Leeuwen Dekker Brouwer de_Wit Dijkstra Smits de_Graaf van_der_Meer",
    "nordic": "Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsson Persson Svensson Gustafsson "
              "Jønsson Nørgaard Sørensen Østergaard Jørgensen Hansen Pedersen Kristiansen Ødegård Bråten "
              "Järvinen Mäkinen Hämäläinen Virtanen Korhonen Nieminen Mäkelä Heikkinen Lindström Åberg Sjögren",
    "pl": "Nowak Kowalski Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski Zieliński Szymański Woźniak "
          "Dąbrowski Kozłowski Jankowski Mazur Kwiatkowski Krawczyk Piotrowski Grabowski Nowakowski Pawłowski",
    "cz": "Novák Svoboda Novotný Dvořák Černý Procházka Kučera Veselý Horák Němec Marek Pospíšil Pokorný "
          "Hájek Král Jelínek Růžička Beneš Fiala Sedláček",
    "tr": "Yılmaz Kaya Demir Şahin Çelik Yıldız Yıldırım Öztürk Aydın Özdemir Arslan Doğan Kılıç Aslan "
          "Çetin Kara Koç Kurt Özkan Şimşek",
    "pt": "Silva Santos Oliveira Souza Rodrigues Ferreira Alves Pereira Lima Gomes Costa Ribeiro Martins "
          "Carvalho Almeida Lopes Soares Fernandes Vieira Barbosa Araújo Gonçalves Conceição Magalhães",
    "in": "Sharma Verma Gupta Singh Kumar Patel Reddy Iyer Nair Menon Rao Joshi Mehta Shah Desai Kulkarni "
          "Chatterjee Banerjee Mukherjee Das Bose Pillai Agarwal Malhotra Kapoor",
}
FIRST = {k: v.split() for k, v in FIRST.items()}
LAST = {k: [x.replace("_", " ") for x in v.split()] for k, v in LAST.items()}
# Japanese and Chinese names: (native, romanised)
JA_FIRST = [("太郎", "Taro"), ("健", "Ken"), ("翔太", "Shota"), ("大輔", "Daisuke"), ("直樹", "Naoki"),
            ("拓也", "Takuya"), ("誠", "Makoto"), ("浩", "Hiroshi"), ("花子", "Hanako"), ("陽子", "Yoko"),
            ("美咲", "Misaki"), ("由美", "Yumi"), ("恵", "Megumi"), ("智子", "Tomoko"), ("愛", "Ai")]
JA_LAST = [("山田", "Yamada"), ("佐藤", "Sato"), ("鈴木", "Suzuki"), ("高橋", "Takahashi"), ("田中", "Tanaka"),
           ("伊藤", "Ito"), ("渡辺", "Watanabe"), ("中村", "Nakamura"), ("小林", "Kobayashi"), ("加藤", "Kato"),
           ("吉田", "Yoshida"), ("山本", "Yamamoto"), ("松本", "Matsumoto"), ("井上", "Inoue"), ("木村", "Kimura")]
ZH_FIRST = [("伟", "Wei"), ("芳", "Fang"), ("娜", "Na"), ("敏", "Min"), ("静", "Jing"), ("磊", "Lei"),
            ("洋", "Yang"), ("艳", "Yan"), ("勇", "Yong"), ("军", "Jun"), ("杰", "Jie"), ("婷", "Ting")]
ZH_LAST = [("王", "Wang"), ("李", "Li"), ("张", "Zhang"), ("刘", "Liu"), ("陈", "Chen"), ("杨", "Yang"),
           ("黄", "Huang"), ("赵", "Zhao"), ("吴", "Wu"), ("周", "Zhou"), ("林", "Lin"), ("郭", "Guo")]

# (suffix, weight, locales, timezone rule, phone prefix)
TLDS = [
    ("com", 30, ("en",), "us", "+1"), ("de", 12, ("de",), "eu", "+49"), ("co.uk", 10, ("en",), "uk", "+44"),
    ("fr", 5, ("fr",), "eu", "+33"), ("nl", 4, ("nl",), "eu", "+31"), ("com.au", 4, ("en",), "au", "+61"),
    ("co.jp", 3, ("ja",), "jp", "+81"), ("ch", 3, ("de", "fr", "it"), "eu", "+41"),
    ("at", 3, ("de",), "eu", "+43"), ("it", 3, ("it",), "eu", "+39"), ("es", 3, ("es",), "eu", "+34"),
    ("io", 3, ("en", "de", "nordic"), "eu", "+44"), ("se", 2, ("nordic",), "eu", "+46"),
    ("net", 2, ("en",), "us", "+1"), ("pl", 2, ("pl",), "eu", "+48"), ("dk", 1, ("nordic",), "eu", "+45"),
    ("no", 1, ("nordic",), "eu", "+47"), ("fi", 1, ("nordic",), "eu", "+358"), ("cz", 1, ("cz",), "eu", "+420"),
    ("be", 1, ("nl", "fr"), "eu", "+32"), ("ie", 1, ("en",), "uk", "+353"), ("ca", 1, ("en", "fr"), "usw", "+1"),
    ("org", 1, ("en",), "us", "+1"), ("org.uk", 1, ("en",), "uk", "+44"), ("com.br", 1, ("pt",), "br", "+55"),
    ("co.nz", 1, ("en",), "nz", "+64"), ("co.za", 1, ("en",), "za", "+27"), ("com.sg", 1, ("en", "zh"), "sg", "+65"),
    ("co.in", 1, ("in",), "in", "+91"), ("com.tr", 1, ("tr",), "tr", "+90"), ("com.mx", 1, ("es",), "mx", "+52"),
    ("net.au", 1, ("en",), "au", "+61"), ("ne.jp", 1, ("ja",), "jp", "+81"), ("com.cn", 1, ("zh",), "cn", "+86"),
]
TLD_WEIGHTS = [t[1] for t in TLDS]
LEGAL = {"com": ["Inc.", "LLC", "Corp.", ""], "de": ["GmbH", "AG", "GmbH & Co. KG", "SE"],
         "co.uk": ["Ltd", "Limited", "plc"], "fr": ["SAS", "SA", "SARL"], "nl": ["B.V.", "N.V."],
         "com.au": ["Pty Ltd"], "co.jp": ["K.K.", "Co., Ltd."], "ch": ["AG", "SA", "GmbH"], "at": ["GmbH", "AG"],
         "it": ["S.p.A.", "S.r.l."], "es": ["S.L.", "S.A."], "se": ["AB"], "dk": ["A/S", "ApS"], "no": ["AS"],
         "fi": ["Oy", "Oyj"], "pl": ["Sp. z o.o.", "S.A."], "cz": ["s.r.o.", "a.s."], "be": ["NV", "BV", "SA"],
         "com.br": ["Ltda.", "S.A."], "co.za": ["(Pty) Ltd"], "com.tr": ["A.Ş.", "Ltd. Şti."],
         "com.mx": ["S.A. de C.V."], "co.in": ["Pvt. Ltd."], "com.cn": ["有限公司", "Co., Ltd."]}
FREEMAIL = [("gmail.com", 30, "us"), ("googlemail.com", 2, "eu"), ("web.de", 6, "eu"), ("gmx.de", 6, "eu"),
            ("gmx.net", 3, "eu"), ("t-online.de", 3, "eu"), ("yahoo.com", 5, "us"), ("yahoo.co.uk", 2, "uk"),
            ("yahoo.co.jp", 1, "jp"), ("outlook.com", 6, "us"), ("hotmail.com", 4, "us"),
            ("hotmail.co.uk", 2, "uk"), ("live.de", 1, "eu"), ("icloud.com", 4, "us"), ("me.com", 1, "us"),
            ("orange.fr", 2, "eu"), ("free.fr", 1, "eu"), ("libero.it", 1, "eu"), ("bluewin.ch", 1, "eu"),
            ("seznam.cz", 1, "eu"), ("wp.pl", 1, "eu"), ("mail.ru", 1, "eu"), ("protonmail.com", 2, "eu"),
            ("aol.com", 1, "us"), ("btinternet.com", 1, "uk"), ("bigpond.com", 1, "au"), ("posteo.de", 1, "eu")]
FREEMAIL_WEIGHTS = [f[1] for f in FREEMAIL]

WORD_A = ("Nord Blue Bright Alpen Stone Iron Silver Quantum Vertex Harbor Summit Cedar Falcon Orbit Prism Delta "
          "Apex Nova Atlas Beacon Cobalt Crest Echo Ember Fjord Granite Helix Horizon Indigo Jade Keystone Lumen "
          "Maple Meridian Nimbus Oak Onyx Pacific Pioneer Polar Quartz Radiant River Sage Sierra Solar Spark "
          "Sterling Tidal Titan Urban Vantage Vector Willow Zenith Aurora Boreal Canyon Coral Drift Elm Flint "
          "Glacier Hawk Ivory Juniper Kestrel Lark Mosaic Nexus Opal Pine Raven Saffron Talon Umbra Verdant "
          "Westfield Rhein Elbe Main Isar Donau Hanse Lotus Sakura Fuji Kiwi Wattle Thames Seine Loire").split()
WORD_B = ("tech works logistics systems soft data labs solutions partners consulting medical bau print foods "
          "energy analytics robotics pharma finance capital freight metals plastics textiles media design "
          "engineering automation networks cloud security insurance retail motors marine aero chemicals "
          "biotech optics sensors tools components industries group holdings ventures digital services "
          "supply trading electronics interiors packaging mobility").split()

OUR = {"name": "OurCo", "domain": "ourco.example", "sub": "eu.ourco.example", "legal": "OurCo Software GmbH"}
PRODUCTS = ["OurCo Insight", "OurCo Connect", "OurCo Cloud Platform", "Premium Support", "Data Migration Package",
            "OurCo Analytics Add-on", "Enterprise SSO module", "Onboarding workshop"]
TITLES = ["Head of Procurement", "IT Director", "CFO", "CTO", "Chief Operating Officer", "Purchasing Manager",
          "Senior Buyer", "Operations Manager", "Project Manager", "Head of IT", "Software Architect",
          "Team Lead Sales Operations", "Managing Director", "VP Engineering", "Finance Manager",
          "Einkaufsleiter", "Leiterin IT", "Geschäftsführer", "Responsable Achats", "Directrice Financière",
          "Data Protection Officer", "Legal Counsel", "Office Manager", "Business Analyst", "Product Owner"]
OUR_TITLES = ["Account Executive", "Sales Engineer", "Customer Success Manager", "Head of Sales DACH",
              "Solutions Consultant", "Legal Counsel", "Finance & Billing", "Support Engineer", "VP Sales",
              "Marketing Manager", "Sales Development Representative", "Implementation Consultant"]

TOPICS = [
    ("pricing", ["Pricing for {product}", "Quote {quote}", "Question about pricing", "Updated offer - {org}",
                 "Volume discount for {product}", "Angebot {quote}", "Devis {product}"]),
    ("demo", ["Demo of {product}", "Follow-up on our demo", "{product} demo next week?", "Recording of today's demo"]),
    ("renewal", ["Renewal {year}", "Your {product} licence renewal", "Contract renewal {org}", "Verlängerung {year}"]),
    ("contract", ["Contract draft v{n}", "MSA redlines", "Order form {quote}", "Vertragsentwurf {org}",
                  "Signed order form"]),
    ("security", ["Security questionnaire", "DPA / GDPR questions", "SOC 2 report request", "Pen test summary",
                  "Datenschutzvereinbarung (AVV)"]),
    ("integration", ["SSO integration", "API limits", "Integration with SAP", "Webhook question",
                     "Salesforce connector"]),
    ("onboarding", ["Kick-off meeting", "Onboarding plan", "Welcome to {product}!", "Project timeline",
                    "Go-live checklist"]),
    ("invoice", ["Invoice {inv}", "Payment reminder {inv}", "PO number for {quote}", "Rechnung {inv}",
                 "Remittance advice"]),
    ("support", ["Issue with export", "Login problem", "Ticket #{ticket}: sync error", "Feature request",
                 "Performance question"]),
    ("rfp", ["RFP {org} - clarification questions", "Tender documents", "Ausschreibung {year}",
             "Shortlist and next steps"]),
    ("pilot", ["Pilot scope", "Pilot results", "Proof of concept - success criteria", "Testphase {product}"]),
    ("intro", ["Intro: {name} <> {us}", "Introduction", "Nice to meet you at {event}", "Following up from {event}"]),
]
EVENTS = ["DMEXCO", "CeBIT", "Web Summit", "SaaStr", "the Hannover Messe", "VivaTech", "London Tech Week",
          "our webinar", "the partner day", "Slush", "it-sa", "GITEX"]

EN_SENT = [
    "Thanks for your time on the call today.",
    "As discussed, I have attached the updated proposal for {product}.",
    "Could you let me know by Friday whether the pricing works for you?",
    "We would like to move forward with the pilot in {month}.",
    "Our legal team has a few comments on the MSA, see the redlines attached.",
    "I have looped in {colleague}, who will help with the technical questions.",
    "The licence count would be {seats} seats for the first year.",
    "From our side, the main concern is the integration with our ERP.",
    "From what I understood, procurement needs a PO before the end of the quarter.",
    "Is there any flexibility on the payment terms (net 60 instead of net 30)?",
    "Please find the security questionnaire completed below.",
    "Our CFO would like to see a three-year total cost of ownership.",
    "Could we schedule a 30-minute call next Tuesday or Wednesday afternoon?",
    "The quote is valid until the end of the month.",
    "We are currently evaluating two other vendors, so a quick answer would help.",
    "I will send the signed order form as soon as I have the second signature.",
    "The export issue appeared again this morning, ticket number {ticket}.",
    "Do you support SAML single sign-on with Azure AD?",
    "Data residency in the EU is a hard requirement for us.",
    "Attached you will find the invoice for the last quarter.",
    "We need the discount to be at least {pct}% to get budget approval.",
    "I am out of office next week, please contact {colleague} in the meantime.",
    "Happy to set up a workshop with your team to go through the onboarding plan.",
    "Let me check internally and come back to you tomorrow.",
    "The renewal date is {date}; we should agree on the terms before then.",
    "Could you send us your W-9 / VAT details for the vendor registration?",
    "Our internal review board meets on the first Monday of each month.",
    "We have {seats} users in three countries, mostly in sales and finance.",
    "It was great meeting you at {event}.",
    "Thanks, that answers my question.",
    "I have forwarded this to our procurement department.",
    "Sorry for the late reply, it has been a busy week.",
    "The numbers look good, but I need to run them past my manager.",
    "Would it be possible to extend the trial by two weeks?",
    "We decided to go ahead; please send the final contract.",
    "Unfortunately we have decided not to proceed at this time.",
]
DE_SENT = [
    "vielen Dank für das freundliche Telefonat heute.",
    "anbei erhalten Sie wie besprochen unser aktualisiertes Angebot für {product}.",
    "Könnten Sie mir bis Freitag Bescheid geben, ob die Konditionen für Sie passen?",
    "Unsere Rechtsabteilung hat noch Anmerkungen zum Vertrag, siehe Anhang.",
    "Wir würden gerne im {month} mit der Testphase starten.",
    "Die Lizenzanzahl läge im ersten Jahr bei {seats} Nutzern.",
    "Ist eine Zahlung mit 60 Tagen Ziel möglich?",
    "Für die Freigabe benötigen wir noch die Auftragsverarbeitungsvereinbarung.",
    "Ich melde mich nächste Woche mit einer Rückmeldung unseres Einkaufs.",
    "Können wir einen Termin für einen Workshop vereinbaren?",
    "Die Rechnung über das letzte Quartal finden Sie im Anhang.",
    "Leider müssen wir das Projekt vorerst zurückstellen.",
    "Grüße aus München – und danke für die schnelle Rückmeldung!",
]
FR_SENT = [
    "merci pour votre temps lors de notre échange d'aujourd'hui.",
    "vous trouverez ci-joint le devis mis à jour pour {product}.",
    "Pourriez-vous me confirmer d'ici vendredi si les conditions vous conviennent ?",
    "Notre service juridique a quelques remarques sur le contrat.",
    "Nous souhaiterions démarrer la phase pilote en {month}.",
    "Je reviens vers vous dès que j'ai la validation de notre direction financière.",
    "Serait-il possible d'organiser une démonstration la semaine prochaine ?",
]
ES_SENT = [
    "muchas gracias por la reunión de hoy.",
    "adjunto la propuesta actualizada para {product}.",
    "¿Podría confirmarme antes del viernes si el precio le parece bien?",
    "Nuestro departamento jurídico tiene algunos comentarios sobre el contrato.",
    "Quedo a la espera de su respuesta.",
]
JA_SENT = [
    "いつも大変お世話になっております。",
    "先日はお打ち合わせのお時間をいただき、誠にありがとうございました。",
    "{product}のお見積もりを添付いたしますので、ご確認のほどよろしくお願いいたします。",
    "ご不明な点がございましたら、お気軽にお問い合わせください。",
    "来週のご都合はいかがでしょうか。",
]
SENT_BY_LANG = {"en": EN_SENT, "de": DE_SENT, "fr": FR_SENT, "es": ES_SENT, "ja": JA_SENT}
GREET = {"en": ["Hi {first},", "Hello {first},", "Dear {first},", "Dear Mr {last},", "Dear Ms {last},",
                "{first},", "Hi all,", "Good morning {first},"],
         "de": ["Hallo {first},", "Sehr geehrter Herr {last},", "Sehr geehrte Frau {last},", "Liebe {first},",
                "Guten Tag {first},", "Hallo zusammen,"],
         "fr": ["Bonjour {first},", "Madame, Monsieur,", "Bonjour à tous,", "Cher {first},"],
         "es": ["Hola {first}:", "Estimado {first}:", "Buenos días,"],
         "ja": ["{last}様", "{last}様\n\nお世話になっております。"]}
CLOSE = {"en": ["Best regards,", "Kind regards,", "Thanks,", "Best,", "Cheers,", "Many thanks,", "Regards,"],
         "de": ["Viele Grüße", "Mit freundlichen Grüßen", "Beste Grüße", "Schöne Grüße"],
         "fr": ["Cordialement,", "Bien à vous,", "Bien cordialement,"],
         "es": ["Saludos,", "Un saludo,", "Atentamente,"],
         "ja": ["よろしくお願いいたします。"]}
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
REPLY_PREFIX = {"en": ["Re: ", "RE: ", "Re: "], "de": ["AW: ", "Re: ", "AW: "], "fr": ["RE : ", "Re: "],
                "es": ["RE: ", "Re: "], "it": ["R: ", "Re: "], "nl": ["Re: ", "Antw: "], "nordic": ["SV: ", "Re: "],
                "ja": ["Re: ", "RE: "]}
FWD_PREFIX = {"en": ["Fwd: ", "FW: "], "de": ["WG: ", "Fwd: "], "fr": ["TR : ", "Fwd: "]}

NEWS_WORDS = ("Weekly Daily Insider Digest Brief Update Review Report Pulse Radar Dispatch Bulletin Letter "
              "Roundup Signal Monitor Outlook Wire").split()
NEWS_TOPICS = ("SaaS Sales Marketing Cloud Security Fintech Retail Logistics Procurement HR Data AI DevOps "
               "Leadership Startup Mittelstand Industry Growth B2B RevOps").split()
SERVICES = [("SignFlow", "signflow.io", "noreply", ["{name} signed \"{doc}\"", "Please sign: {doc}",
                                                    "Completed: {doc}"]),
            ("CloudDesk", "clouddesk.com", "notifications", ["[CloudDesk] New ticket #{ticket}",
                                                            "[CloudDesk] Ticket #{ticket} was updated"]),
            ("MeetWell", "meetwell.app", "no-reply", ["New event: {name} - 30 min", "Cancelled: {name} - 30 min"]),
            ("Connectin", "connectin.com", "messages-noreply", ["{name} sent you a message",
                                                               "You appeared in {n} searches this week"]),
            ("TravelBooker", "travelbooker.de", "noreply", ["Ihre Buchungsbestätigung {ticket}",
                                                           "Reiseplan: München – Hamburg"]),
            ("ExpenseIt", "expenseit.co.uk", "do-not-reply", ["Expense report {ticket} approved",
                                                             "Reminder: 3 receipts missing"]),
            ("OurCo CRM", "crm.ourco.example", "noreply", ["Task due today: follow up {org}",
                                                          "Opportunity {org} moved to stage Negotiation"]),
            ("OurCo Jira", "ourco.example", "jira", ["[JIRA] (SUP-{ticket}) Export fails for {org}",
                                                    "[JIRA] Commented: (SUP-{ticket})"]),
            ("CodeHub", "codehub.io", "notifications", ["[ourco/integrations] PR #{n}: fix webhook retries"]),
            ("PayStream", "paystream.com", "receipts", ["Your receipt from PayStream #{ticket}"]),
            ("Webinarly", "mail.webinarly.com", "no-reply", ["Reminder: webinar starts in 1 hour"]),
            ("FileShare", "fileshare.net", "no-reply", ["{name} shared \"{doc}\" with you"]),
            ("Bahn", "bahn.de", "buchungsbestaetigung", ["Ihre Fahrkarte für Ihre Reise am {date}"]),
            ("AirEuro", "aireuro.eu", "noreply", ["Your boarding pass {ticket}", "Check-in is now open"]),
            ("Calendar", "calendar.ourco.example", "calendar-notification", ["Reminder: {name} @ {date}"])]
LISTS = [("SalesOps", "lists.revops-community.org", "[SalesOps] "),
         ("pgsql-general", "postgresql.org", ""),
         ("DACH-SaaS", "dach-saas.groups.io", "[DACH-SaaS] "),
         ("procurement-forum", "lists.procurement-forum.co.uk", "[PF] "),
         ("ourco-all", "ourco.example", "[all] "),
         ("gmime-devel", "lists.gnome.org", "")]
ROLE_LOCALS = ["info", "sales", "support", "billing", "accounts", "invoices", "office", "contact", "hello",
               "hr", "team", "purchasing", "einkauf", "buchhaltung", "service", "accounts-payable"]
DOCS = ["Order Form Q-{n}.pdf", "MSA_v{n}_redline.docx", "Angebot_{n}.pdf", "NDA mutual.pdf",
        "Datenschutzvereinbarung.pdf", "Rechnung_RE-{n}.pdf", "Pricing {year}.xlsx", "Präsentation {year}.pptx",
        "Security Questionnaire v{n}.xlsx", "Devis n°{n}.pdf", "Invoice INV-{n}.pdf", "Screenshot {n}.png",
        "IMG_{n}.JPG", "Roadmap {year} H2.pdf", "Statement of Work.pdf", "Übersicht Lizenzen.xlsx",
        "見積書_{n}.pdf", "Architecture diagram.png", "Kick-off deck.pdf", "SOC2_Type_II_{year}.pdf"]


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------

TRANSLIT = {"ß": "ss", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "Ae", "ł": "l", "Ł": "L", "đ": "d", "ı": "i",
            "œ": "oe", "İ": "I", "'": "", " ": ""}
GERMAN = {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"}


def ascii_fold(s, locale):
    out = []
    for ch in s:
        if locale in ("de", "nordic") and ch in GERMAN:
            out.append(GERMAN[ch])
        elif ch in TRANSLIT:
            out.append(TRANSLIT[ch])
        else:
            out.append(ch)
    s = unicodedata.normalize("NFKD", "".join(out))
    return "".join(c for c in s if ord(c) < 128 and c.isalnum() or c in "-")


def is_ascii(s):
    return s.isascii()


def latin1_ok(s):
    try:
        s.encode("iso-8859-1")
        return True
    except UnicodeEncodeError:
        return False


def weighted(rng, items, weights):
    return rng.choices(items, weights)[0]


def weighted_cum(rng, items, cum_weights):
    """weighted() with the cumulative weights computed once (for the long lists)."""
    return rng.choices(items, cum_weights=cum_weights)[0]


def hexid(rng, n):
    return "%0*x" % (n, rng.getrandbits(4 * n))


def b64id(rng, nbytes):
    return base64.b64encode(rng.randbytes(nbytes)).decode()


def uuid_str(rng, upper=False):
    h = hexid(rng, 32)
    s = "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])
    return s.upper() if upper else s


# Time zones: offset in minutes at a UTC instant.
_DST_CACHE = {}


def _nth_sunday(year, month, n):
    """n >= 1: the nth Sunday; n = -1: the last Sunday; returns the day of the month."""
    first_wd, ndays = calendar.monthrange(year, month)
    first_sun = 1 + (6 - first_wd) % 7
    if n > 0:
        return first_sun + 7 * (n - 1)
    d = first_sun
    while d + 7 <= ndays:
        d += 7
    return d


def _dst_bounds(rule, year):
    key = (rule, year)
    if key not in _DST_CACHE:
        g = calendar.timegm
        if rule in ("eu", "uk"):
            b = (g((year, 3, _nth_sunday(year, 3, -1), 1, 0, 0)), g((year, 10, _nth_sunday(year, 10, -1), 1, 0, 0)))
        elif rule in ("us", "usw"):
            base = 5 if rule == "us" else 8
            b = (g((year, 3, _nth_sunday(year, 3, 2), 2 + base, 0, 0)),
                 g((year, 11, _nth_sunday(year, 11, 1), 1 + base, 0, 0)))
        elif rule == "au":  # southern: DST outside (April, October)
            b = (g((year, 4, _nth_sunday(year, 4, 1), 16, 0, 0)), g((year, 10, _nth_sunday(year, 10, 1), 16, 0, 0)))
        elif rule == "nz":
            b = (g((year, 4, _nth_sunday(year, 4, 1), 14, 0, 0)), g((year, 9, _nth_sunday(year, 9, -1), 14, 0, 0)))
        else:
            b = None
        _DST_CACHE[key] = b
    return _DST_CACHE[key]


TZ_STD = {"eu": 60, "uk": 0, "us": -300, "usw": -480, "au": 600, "nz": 720, "jp": 540, "in": 330,
          "br": -180, "sg": 480, "cn": 480, "za": 120, "tr": 180, "mx": -360, "utc": 0}
TZ_ABBR = {("eu", 0): "CET", ("eu", 1): "CEST", ("uk", 0): "GMT", ("uk", 1): "BST", ("us", 0): "EST",
           ("us", 1): "EDT", ("usw", 0): "PST", ("usw", 1): "PDT", ("jp", 0): "JST", ("au", 0): "AEST",
           ("au", 1): "AEDT"}


def tz_offset(rule, ts):
    std = TZ_STD[rule]
    year = time.gmtime(ts).tm_year
    b = _dst_bounds(rule, year)
    dst = 0
    if b is not None:
        if rule in ("au", "nz"):
            dst = 1 if (ts < b[0] or ts >= b[1]) else 0
        else:
            dst = 1 if b[0] <= ts < b[1] else 0
    return std + 60 * dst, dst


DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MON3 = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def fmt_date(ts, rule, style=0):
    """RFC 5322 date in the sender's local time; style varies the form like real mailers do."""
    off, dst = tz_offset(rule, ts)
    t = time.gmtime(ts + off * 60)
    sign = "+" if off >= 0 else "-"
    z = "%s%02d%02d" % (sign, abs(off) // 60, abs(off) % 60)
    if style == 1:  # Outlook, Gmail
        return "%s, %d %s %d %02d:%02d:%02d %s" % (DAYS[t.tm_wday], t.tm_mday, MON3[t.tm_mon - 1], t.tm_year,
                                                   t.tm_hour, t.tm_min, t.tm_sec, z)
    if style == 2:  # with zone comment
        abbr = TZ_ABBR.get((rule, dst))
        return "%s, %02d %s %d %02d:%02d:%02d %s%s" % (DAYS[t.tm_wday], t.tm_mday, MON3[t.tm_mon - 1], t.tm_year,
                                                       t.tm_hour, t.tm_min, t.tm_sec, z,
                                                       " (%s)" % abbr if abbr else "")
    if style == 3:  # no day of week
        return "%d %s %d %02d:%02d:%02d %s" % (t.tm_mday, MON3[t.tm_mon - 1], t.tm_year, t.tm_hour, t.tm_min,
                                               t.tm_sec, z)
    if style == 4:  # obsolete zone name
        u = time.gmtime(ts)
        return "%s, %d %s %d %02d:%02d:%02d GMT" % (DAYS[u.tm_wday], u.tm_mday, MON3[u.tm_mon - 1], u.tm_year,
                                                    u.tm_hour, u.tm_min, u.tm_sec)
    return "%s, %02d %s %d %02d:%02d:%02d %s" % (DAYS[t.tm_wday], t.tm_mday, MON3[t.tm_mon - 1], t.tm_year,
                                                 t.tm_hour, t.tm_min, t.tm_sec, z)


def local_tm(ts, rule):
    off, _ = tz_offset(rule, ts)
    return time.gmtime(ts + off * 60)


def ical_fold(line):
    """RFC 5545 folding at 75 octets, never inside a UTF-8 sequence."""
    raw = line.encode("utf-8")
    if len(raw) <= 75:
        return line + "\r\n"
    out, cur, limit = [], b"", 75
    for ch in line:
        b = ch.encode("utf-8")
        if len(cur) + len(b) > limit:
            out.append(cur)
            cur, limit = b"", 74
        cur += b
    out.append(cur)
    return "\r\n ".join(x.decode("utf-8") for x in out) + "\r\n"


def ical_time(ts):
    t = time.gmtime(ts)
    return "%04d%02d%02dT%02d%02d%02dZ" % t[:6]


def ical_local(ts, rule):
    t = local_tm(ts, rule)
    return "%04d%02d%02dT%02d%02d%02d" % t[:6]


def qp_body(text_bytes):
    return quopri.encodestring(text_bytes).decode("ascii")


def b64_body(data):
    return base64.encodebytes(data).decode("ascii")


def wrap_text(text, width, flowed):
    """Wraps long lines at spaces the way mail clients do; quoted lines keep their '>' prefix.
    With format=flowed, soft line breaks end in a space (RFC 3676)."""
    out = []
    for line in text.split("\n"):
        if len(line) <= width or line == "-- ":
            out.append(line)
            continue
        body = line.lstrip(">")
        prefix = line[:len(line) - len(body)]
        if prefix and body.startswith(" "):
            prefix, body = prefix + " ", body[1:]
        cur = ""
        for word in body.split(" "):
            if cur and len(prefix) + len(cur) + 1 + len(word) > width:
                out.append(prefix + cur + (" " if flowed else ""))
                cur = word
            else:
                cur = cur + " " + word if cur else word
        out.append(prefix + cur)
    return "\n".join(out)


def enc_words(s, cs):
    """RFC 2047 encoded words on one line; the generator folds between them."""
    return Header(s, cs).encode().replace("\n ", " ")


def surrogate(b):
    """Raw bytes carried through the email package unchanged (8-bit headers and bodies)."""
    return b.decode("ascii", "surrogateescape")


# --------------------------------------------------------------------------------------------
# The world
# --------------------------------------------------------------------------------------------

class Org:
    __slots__ = ("name", "short", "domain", "mail_domains", "suffix", "locale", "tz", "phone", "mailer",
                 "people", "roles", "weight", "signs", "folder", "addr_style", "customer")


class Person:
    __slots__ = ("first", "last", "native", "ascii_name", "addr", "alt_addrs", "org", "locale", "tz", "title",
                 "phone", "mailer", "kind", "family_first", "freemail", "weight", "reply_to", "sender")


MAILERS = ["outlook", "gmail", "apple", "thunderbird", "other"]


def make_person(rng, locale, org, tz, phone_prefix, used_locals, domain, style):
    if locale == "ja" or locale == "zh":
        fp, lp = (JA_FIRST, JA_LAST) if locale == "ja" else (ZH_FIRST, ZH_LAST)
        f, l = rng.choice(fp), rng.choice(lp)
        first, last = f[1], l[1]
        native = (l[0] + " " + f[0]) if locale == "ja" else (l[0] + f[0])
        if rng.random() < 0.5:
            native = "%s %s" % (first, last)
        af, al = first.lower(), last.lower()
    else:
        first, last = rng.choice(FIRST[locale]), rng.choice(LAST[locale])
        if rng.random() < 0.04:  # double first names
            first = first + "-" + rng.choice(FIRST[locale])
        native = "%s %s" % (first, last)
        af, al = ascii_fold(first, locale).lower(), ascii_fold(last, locale).lower()
    p = Person()
    p.first, p.last, p.native = first, last, native
    p.ascii_name = "%s %s" % (af.capitalize(), al.capitalize())
    p.family_first = locale in ("ja", "zh") and not is_ascii(native)
    forms = {"first.last": "%s.%s" % (af, al), "flast": af[:1] + al, "first": af, "f.last": "%s.%s" % (af[:1], al),
             "firstl": af + al[:1], "first_last": "%s_%s" % (af, al), "last": al, "lastf": al + af[:1]}
    local = forms[style]
    base, n = local, 1
    while local in used_locals:
        n += 1
        local = "%s%d" % (base, n) if n > 2 or rng.random() < 0.5 else forms["first.last"] + str(n)
    used_locals.add(local)
    p.addr = "%s@%s" % (local, domain)
    p.alt_addrs = []
    p.org, p.locale, p.tz = org, locale, tz
    p.title = rng.choice(TITLES)
    p.phone = "%s %d %d" % (phone_prefix, rng.randrange(10, 99), rng.randrange(100000, 9999999))
    p.mailer = org.mailer if org is not None else rng.choice(["gmail", "apple", "other", "outlook"])
    p.kind = "person"
    p.freemail = False
    p.weight = rng.paretovariate(1.3)
    p.reply_to = None
    p.sender = None
    return p


class World:
    pass


def build_world(rng, n_messages):
    w = World()
    # The user and colleagues.
    us_org = Org()
    us_org.name, us_org.short, us_org.domain = OUR["legal"], "OurCo", OUR["domain"]
    us_org.mail_domains = [OUR["domain"], OUR["sub"]]
    us_org.suffix, us_org.locale, us_org.tz, us_org.phone = "example", "de", "eu", "+49"
    us_org.mailer, us_org.people, us_org.roles, us_org.weight, us_org.signs = "outlook", [], {}, 1, False
    us_org.folder, us_org.addr_style, us_org.customer = None, "first.last", False
    used = set()
    user = make_person(rng, "de", us_org, "eu", "+49 89", used, OUR["domain"], "first.last")
    user.first, user.last, user.native = "Julia", "Hoffmann", "Julia Hoffmann"
    user.ascii_name = "Julia Hoffmann"
    user.addr = "julia.hoffmann@" + OUR["domain"]
    user.alt_addrs = ["j.hoffmann@" + OUR["domain"], "julia@" + OUR["sub"]]
    user.title, user.kind, user.mailer = "Key Account Manager", "user", "thunderbird"
    w.user = user
    w.us = us_org
    n_coll = max(8, min(60, n_messages // 1500 + 8))
    w.colleagues = []
    for i in range(n_coll):
        loc = weighted(rng, ["de", "en", "fr", "nl", "pl", "tr", "it", "es"], [10, 5, 2, 1, 1, 1, 1, 1])
        dom = OUR["sub"] if rng.random() < 0.2 else OUR["domain"]
        c = make_person(rng, loc, us_org, "eu", "+49 89", used, dom, "first.last")
        c.title, c.kind = rng.choice(OUR_TITLES), "colleague"
        if dom == OUR["sub"] and rng.random() < 0.5:
            c.alt_addrs = [c.addr.split("@")[0] + "@" + OUR["domain"]]
        w.colleagues.append(c)
    us_org.people = w.colleagues
    us_org.roles = {r: "%s@%s" % (r, OUR["domain"]) for r in ("sales", "support", "billing", "info")}

    # External organisations.
    n_orgs = max(20, n_messages // 20)
    w.orgs = []
    used_domains = set(OUR["domain"].split())
    for i in range(n_orgs):
        t = weighted(rng, TLDS, TLD_WEIGHTS)
        suffix, _, locales, tz, phone = t
        locale = rng.choice(locales)
        while True:
            a, b = rng.choice(WORD_A), rng.choice(WORD_B)
            r = rng.random()
            if r < 0.45:
                label, name = (a + b).lower(), a + b.capitalize() if rng.random() < 0.5 else a + " " + b.capitalize()
            elif r < 0.75:
                label, name = "%s-%s" % (a.lower(), b), "%s %s" % (a, b.capitalize())
            elif r < 0.85:
                c = rng.choice(WORD_A)
                label, name = "%s%s" % (a.lower(), c.lower()), "%s%s" % (a, c.lower())
            elif r < 0.92:
                ini = "".join(rng.choice("ABCDEFGHKLMNPRSTVW") for _ in range(rng.choice((2, 3, 3, 4))))
                label, name = "%s-%s" % (ini.lower(), b), "%s %s" % (ini, b.capitalize())
            else:
                ln = rng.choice(LAST.get(locale, LAST["en"]))
                label, name = ascii_fold(ln, locale).lower() + "-" + b, "%s %s" % (ln, b.capitalize())
            dom = "%s.%s" % (label, suffix)
            if dom in used_domains:
                dom = "%s%s.%s" % (label, rng.choice(["-group", "-" + suffix.split(".")[-1], "24", "-online", "hq"]),
                                   suffix)
            if dom not in used_domains:
                break
        used_domains.add(dom)
        o = Org()
        legal = rng.choice(LEGAL.get(suffix, [""]))
        o.short = name
        o.name = (name + " " + legal).strip()
        o.domain, o.suffix, o.locale, o.tz = dom, suffix, locale, tz
        o.phone = phone
        o.mail_domains = [dom]
        rsub = rng.random()
        if rsub < 0.05:
            o.mail_domains = ["mail." + dom]  # all mail from a subdomain
        elif rsub < 0.10:
            o.mail_domains = [dom, rng.choice(["mail.", "eu.", "uk.", "corp.", "de.", "us."]) + dom]
        o.mailer = weighted(rng, MAILERS, [45, 25, 8, 7, 15])
        o.weight = rng.paretovariate(1.2)
        o.signs = rng.random() < 0.03
        o.addr_style = weighted(rng, ["first.last", "flast", "first", "f.last", "firstl", "first_last", "lastf"],
                                [55, 12, 8, 10, 5, 5, 5])
        o.customer = False
        o.folder = None
        used_l = set()
        npeople = 1 + min(int(rng.paretovariate(1.4)), 14)
        o.people = []
        for _ in range(npeople):
            ploc = locale if rng.random() < 0.85 else rng.choice(list(FIRST))
            md = o.mail_domains[0] if len(o.mail_domains) == 1 or rng.random() < 0.6 else o.mail_domains[1]
            p = make_person(rng, ploc, o, tz, phone, used_l, md, o.addr_style)
            if len(o.mail_domains) > 1 and rng.random() < 0.3:  # the same person from both domains
                other = o.mail_domains[1] if md == o.mail_domains[0] else o.mail_domains[0]
                p.alt_addrs.append(p.addr.split("@")[0] + "@" + other)
            if rng.random() < 0.04:  # also writes from home
                fm = weighted(rng, FREEMAIL, FREEMAIL_WEIGHTS)[0]
                p.alt_addrs.append("%s.%s%d@%s" % (ascii_fold(p.first, ploc).lower(), ascii_fold(p.last, ploc).lower(),
                                                   rng.randrange(1, 99), fm))
            o.people.append(p)
        o.roles = {}
        for r in rng.sample(ROLE_LOCALS, rng.choice((1, 2, 3))):
            o.roles[r] = "%s@%s" % (r, o.mail_domains[-1] if rng.random() < 0.3 else dom)
        # An assistant sending on behalf of a manager.
        if len(o.people) >= 3 and rng.random() < 0.1:
            o.people[0].sender = o.people[1]
        w.orgs.append(o)
    # Top customers get their own folders (Maildir++ .Customers.X; one in modified UTF-7).
    top = sorted(range(len(w.orgs)), key=lambda i: -w.orgs[i].weight)[: max(3, min(25, n_orgs // 100 + 3))]
    for rank, i in enumerate(top):
        o = w.orgs[i]
        o.customer = True
        fname = "".join(ch for ch in o.short if ch.isalnum() or ch in " -")[:24].strip().replace(" ", "")
        o.folder = ".Customers." + ascii_fold(fname, o.locale)
    w.orgs[top[0]].folder = ".Kunden.M&APw-ller"  # "Kunden.Müller" in IMAP modified UTF-7
    w.org_cum = list(accumulate(o.weight for o in w.orgs))

    # Freemail contacts (freelancers, small businesses, private addresses).
    w.freemail = []
    for i in range(max(10, n_messages // 200)):
        f = weighted(rng, FREEMAIL, FREEMAIL_WEIGHTS)
        loc = {"eu": rng.choice(["de", "fr", "it", "pl", "cz", "nl"]), "uk": "en", "us": "en", "jp": "ja",
               "au": "en"}[f[2]]
        style = rng.choice(["first.last", "firstl", "first_last", "flast"])
        p = make_person(rng, loc, None, f[2] if f[2] in TZ_STD else "eu", "+49 1", set(), f[0], style)
        local = p.addr.split("@")[0]
        if rng.random() < 0.6:
            local = local + str(rng.choice([rng.randrange(1, 99), rng.randrange(1955, 2001)]))
        p.addr = local + "@" + f[0]
        p.freemail = True
        p.title = rng.choice(["Freelance consultant", "Owner", "Independent advisor", ""])
        w.freemail.append(p)

    # Newsletter brands, some on the external organisations' own domains.
    w.newsletters = []
    for i in range(max(5, n_messages // 400)):
        if rng.random() < 0.3:
            o = rng.choice(w.orgs)
            brand, dom = o.short + " News", rng.choice(["news.", "mail.", "e.", "info."]) + o.domain
        else:
            brand = "%s %s" % (rng.choice(NEWS_TOPICS), rng.choice(NEWS_WORDS))
            base = "%s%s" % (brand.split()[0].lower(), rng.choice(["", "hub", "weekly", "times", "now", "insider"]))
            dom = rng.choice(["", "news.", "mail.", "email.", "send."]) + base + "." + rng.choice(
                ["com", "io", "de", "co.uk", "net", "com.au"])
        local = rng.choice(["newsletter", "news", "hello", "noreply", "digest", "team", "info", "updates"])
        w.newsletters.append((brand, local + "@" + dom, dom, rng.paretovariate(1.2)))
    w.news_cum = list(accumulate(n[3] for n in w.newsletters))

    # Mailing lists and their members.
    w.lists = []
    for name, dom, prefix in LISTS:
        members = []
        for _ in range(rng.randrange(40, 200)):
            if rng.random() < 0.35:
                members.append(rng.choice(w.freemail))
            elif rng.random() < 0.1 and name.startswith("ourco"):
                members.append(rng.choice(w.colleagues))
            else:
                o = rng.choice(w.orgs)
                members.append(rng.choice(o.people))
        if name.startswith("ourco"):
            members = list(w.colleagues)
        w.lists.append({"name": name, "domain": dom, "prefix": prefix, "addr": "%s@%s" % (name.lower(), dom),
                        "members": members, "cum": list(accumulate(m.weight for m in members)),
                        "folder": ".Lists." + name.replace(".", "_")})
    # Vendor cold outreach (salespeople of other companies writing to our user).
    w.cold = []
    for i in range(max(5, n_messages // 500)):
        o = rng.choice(w.orgs)
        w.cold.append(rng.choice(o.people))
    return w


# --------------------------------------------------------------------------------------------
# Planning
# --------------------------------------------------------------------------------------------

class Plan:
    __slots__ = ("kind", "folder", "new", "date", "sender", "frm_addr", "to", "cc", "bcc", "subject", "msgid",
                 "parent", "refs", "text", "lang", "mailer", "tz", "rseed", "attach", "cal", "listinfo", "news",
                 "defect", "dup_of", "outgoing", "service", "idx", "org", "group", "fwd", "n")


def msgid_for(rng, mailer, domain, ts):
    if mailer == "outlook":
        node = "%s%dPR%02dMB%04d" % (rng.choice(["AM", "DB", "VI", "HE", "PA", "GV", "FR", "SN", "BY", "CH"]),
                                     rng.randrange(0, 9), rng.randrange(1, 99), rng.randrange(1000, 9999))
        region = rng.choice(["eurprd04", "eurprd07", "namprd11", "eurprd02", "apcprd03", "GBRP265"])
        return "<%s%s@%s.%s.prod.outlook.com>" % (node, hexid(rng, 18).upper(), node, region)
    if mailer == "gmail":
        return "<CA%s@mail.gmail.com>" % b64id(rng, 36).replace("/", "_").replace("+", "-")[:44]
    if mailer == "apple":
        return "<%s@%s>" % (uuid_str(rng, True), domain)
    if mailer == "thunderbird":
        return "<%s@%s>" % (uuid_str(rng), domain)
    if mailer == "bulk":
        return "<%d.%s.%s@%s>" % (ts, hexid(rng, 12), b64id(rng, 9).replace("/", "").replace("+", ""), domain)
    return "<%d.%d.JavaMail.%s@%s>" % (rng.randrange(10**8, 10**9), ts, rng.choice(["mail", "root", "app"]),
                                       domain)


class Planner:
    def __init__(self, rng, world, n, seed):
        self.rng, self.w, self.n, self.seed = rng, world, n, seed
        self.plans = []
        self.start = END - SPAN_DAYS * 86400
        self.uids = 0

    # Dates: more mail recently, mostly in business hours of the writer.
    def thread_start(self):
        r = self.rng
        u = r.random() ** 0.7  # skew towards the end
        ts = self.start + int(u * (SPAN_DAYS - 7) * 86400)
        return self.business_time(ts, "eu")

    def business_time(self, ts, rule):
        r = self.rng
        t = local_tm(ts, rule)
        if t.tm_wday >= 5 and r.random() < 0.85:
            ts += (7 - t.tm_wday) * 86400
        t = local_tm(ts, rule)
        if r.random() < 0.9:
            h = r.choice([8, 8, 9, 9, 9, 10, 10, 10, 11, 11, 12, 13, 14, 14, 15, 15, 16, 16, 17, 18])
        else:
            h = r.randrange(0, 24)
        ts = ts - (t.tm_hour * 3600 + t.tm_min * 60 + t.tm_sec) + h * 3600 + r.randrange(3600)
        return ts

    def reply_delay(self):
        r = self.rng
        x = r.random()
        if x < 0.3:
            return r.randrange(120, 3600)
        if x < 0.7:
            return r.randrange(3600, 86400)
        return r.randrange(86400, 9 * 86400)

    def add(self, p):
        p.idx = len(self.plans)
        p.rseed = self.rng.getrandbits(64)
        p.new = False
        p.dup_of = None
        p.defect = None
        self.plans.append(p)
        return p

    def base(self, kind, date, sender, to, cc=(), subject="", mailer="other", tz="eu", lang="en"):
        p = Plan()
        p.kind, p.date, p.sender, p.to, p.cc, p.bcc = kind, date, sender, list(to), list(cc), []
        p.subject, p.mailer, p.tz, p.lang = subject, mailer, tz, lang
        p.frm_addr = None
        p.parent, p.refs, p.text, p.attach, p.cal, p.listinfo, p.news, p.service = None, [], "", [], None, None, None, None
        p.outgoing, p.org, p.group, p.fwd, p.folder = False, None, None, None, ""
        p.n = 0
        return p

    def fill_subject(self, tmpl, org, contact):
        r = self.rng
        return tmpl.format(product=r.choice(PRODUCTS), quote="Q-%d-%04d" % (time.gmtime(END).tm_year - r.randrange(3),
                                                                             r.randrange(1, 9999)),
                           org=org.short if org else "you", year=r.choice([2024, 2025, 2026]), n=r.randrange(1, 9),
                           inv="INV-%06d" % r.randrange(1, 999999), ticket=r.randrange(10000, 99999),
                           name=contact.native if contact else "Julia", us="OurCo", event=r.choice(EVENTS))

    def body_text(self, lang, writer, reader, org, n_sent=None):
        """The fresh text of a message, as a recipe; the renderer writes it (see make_text)."""
        return (self.rng.getrandbits(64), lang, writer, reader, n_sent)

    # ---------------------------------------------------------------- conversation kinds
    def sales_thread(self, internal=False):
        r, w = self.rng, self.w
        if internal:
            org = w.us
            contacts = r.sample(w.colleagues, min(len(w.colleagues), r.choice((1, 1, 2, 3))))
        elif r.random() < 0.08:
            org = None
            contacts = [r.choice(w.freemail)]
        else:
            org = weighted_cum(r, w.orgs, w.org_cum)
            k = min(len(org.people), r.choice((1, 1, 1, 2, 2, 3)))
            contacts = r.choices(org.people, [p.weight for p in org.people], k=k)
            contacts = list(dict.fromkeys(contacts))
        lang = "en"
        loc = contacts[0].locale
        if loc in ("de", "fr", "es", "ja") and r.random() < 0.6:
            lang = loc
        topic, tmpls = r.choice(TOPICS)
        subject = self.fill_subject(r.choice(tmpls), org, contacts[0])
        length = min(1 + int(r.expovariate(0.45)), 18)
        ts = self.thread_start()
        user_starts = r.random() < 0.5
        cc_colleagues = r.sample(w.colleagues, r.choice((0, 0, 0, 1, 1, 2))) if not internal else []
        prev = None
        refs = []
        meet = {}
        for i in range(length):
            outgoing = (i % 2 == 0) == user_starts
            if internal and i > 0 and len(contacts) > 1 and r.random() < 0.3:
                outgoing = False
            if outgoing:
                sender = w.user
                to = [contacts[0]] if r.random() < 0.7 else list(contacts)
                cc = list(cc_colleagues) + ([c for c in contacts if c not in to])
                mailer, tz = w.user.mailer, "eu"
                folder = ".Sent"
            else:
                sender = r.choice(contacts)
                to = [w.user] + ([c for c in contacts if c is not sender] if r.random() < 0.3 else [])
                cc = list(cc_colleagues) + ([c for c in contacts if c is not sender and c not in to])
                mailer, tz = sender.mailer, sender.tz
                folder = self.in_folder(org, ts)
            if i > 0:
                delay = self.reply_delay()
                nts = self.business_time(ts + delay, tz)
                ts = nts if nts > ts else ts + delay  # never before the message it answers
            if ts > END:
                break
            reader = to[0] if to else None
            subj = subject
            if i > 0:
                pre = r.choice(REPLY_PREFIX.get(sender.locale if not outgoing else "en", REPLY_PREFIX["en"]))
                subj = pre + subject
                if r.random() < 0.1 and prev is not None and prev.subject.startswith(("Re:", "RE:", "AW:")):
                    subj = pre + prev.subject  # "Re: AW: Re: ..." pile-ups
            p = self.base("sales" if not internal else "internal", ts, sender, to, cc, subj, mailer, tz, lang)
            p.outgoing, p.folder, p.org = outgoing, folder, org
            if outgoing and r.random() < 0.05:
                p.bcc = [r.choice(w.colleagues)]
            p.text = self.body_text(lang, sender, reader, org)
            p.parent = prev
            p.refs = list(refs)
            p.n = i
            dom = sender.addr.split("@")[1]
            p.msgid = msgid_for(r, mailer, dom, ts)
            self.decorate(p, topic, i, contacts, org, meet)
            self.add(p)
            refs.append(p.msgid)
            if len(refs) > 12:
                refs = refs[:1] + refs[-11:]
            prev = p
            # Occasionally: an out-of-office auto reply to the user's message.
            if outgoing and r.random() < 0.03 and not internal:
                self.ooo(p, contacts[0])
            if len(self.plans) >= self.n:
                break

    def in_folder(self, org, ts):
        r = self.rng
        if org is not None and org.folder and r.random() < 0.6:
            return org.folder
        if ts < END - 365 * 86400 and r.random() < 0.6:
            return ".Archive.%d" % time.gmtime(ts).tm_year
        if ts < END - 90 * 86400 and r.random() < 0.3:
            return ".Archive"
        if org is not None and not org.customer and org is not self.w.us and r.random() < 0.1:
            return ".Prospects"
        return ""

    def decorate(self, p, topic, i, contacts, org, meet):
        r = self.rng
        # Attachments: proposals, contracts, invoices, screenshots.
        chance = {"pricing": 0.25, "contract": 0.35, "invoice": 0.45, "rfp": 0.3, "security": 0.2}.get(topic, 0.05)
        if i > 0:
            chance *= 0.4
        if r.random() < chance:
            for _ in range(r.choice((1, 1, 1, 2, 3))):
                p.attach.append(self.attachment_spec())
        if r.random() < 0.004:
            p.attach.append(("vcard", None, 0))
        # Meetings: invitations, updates, replies, cancellations.
        # A thread's meeting keeps its UID: a request, then replies, updates (SEQUENCE+1) or a cancellation.
        if topic in ("demo", "onboarding", "pilot", "rfp", "intro") and r.random() < 0.18 or r.random() < 0.015:
            if meet and meet["start"] > p.date:
                x = r.random()
                method = "REPLY" if x < 0.6 else "REQUEST" if x < 0.85 else "CANCEL"
                if p.sender is not meet["organizer"]:
                    method = "REPLY"  # only the organizer updates or cancels
                if method != "REPLY":
                    meet["seq"] += 1
                    if method == "REQUEST":
                        meet["start"] += r.choice((-1, 1, 2)) * 3600
            else:
                self.uids += 1
                method = "REQUEST"
                mts = p.date + r.randrange(1, 15) * 86400
                meet.clear()
                meet.update(uid=self.uids, start=mts - mts % 1800, seq=0, summary=p.subject.split(": ", 1)[-1],
                            style={"outlook": "outlook", "gmail": "google", "thunderbird": "tb"}.get(
                                p.sender.mailer, r.choice(["google", "outlook", "tb"])), organizer=p.sender,
                            dur=r.choice((1800, 1800, 3600, 5400)), attendees=list(p.to) + list(p.cc))
            p.cal = {"method": method, "uid": meet["uid"], "start": meet["start"], "dur": meet["dur"],
                     "seq": meet["seq"], "attendees": meet["attendees"], "summary": meet["summary"],
                     "style": meet["style"], "organizer": meet["organizer"],
                     "partstat": r.choice(["ACCEPTED", "ACCEPTED", "DECLINED", "TENTATIVE"])}
            if method == "REPLY" and p.sender is meet["organizer"]:
                p.cal["method"] = method = "REQUEST"
            if method == "REPLY":
                p.subject = "%s: %s" % ({"ACCEPTED": "Accepted", "DECLINED": "Declined",
                                         "TENTATIVE": "Tentative"}[p.cal["partstat"]], p.cal["summary"])
            elif method == "CANCEL":
                p.subject = "Canceled: " + p.cal["summary"]
            elif method == "REQUEST":
                t0, t1 = local_tm(meet["start"], p.tz), local_tm(meet["start"] + meet["dur"], p.tz)
                when = "%s %d %s %d %02d:%02d - %02d:%02d" % (DAYS[t0.tm_wday], t0.tm_mday, MON3[t0.tm_mon - 1],
                                                             t0.tm_year, t0.tm_hour, t0.tm_min, t1.tm_hour, t1.tm_min)
                if meet["seq"] > 0:
                    p.subject = "Updated invitation: %s @ %s" % (meet["summary"], when)
                elif p.sender.mailer == "gmail":
                    p.subject = "Invitation: %s @ %s" % (meet["summary"], when)
                elif r.random() < 0.5:
                    p.subject = meet["summary"]
        # Groups in the To header.
        if len(p.to) >= 2 and r.random() < 0.15:
            p.group = r.choice(["Project team", "Steering Committee", "Einkauf", "Deal team"])

    def attachment_spec(self):
        r = self.rng
        x = r.random()
        if x < 0.012:
            size = r.randrange(500_000, 2_000_000)
        else:
            size = int(min(500_000, max(10_000, r.lognormvariate(11.0, 0.9))))
        name = r.choice(DOCS).format(n=r.randrange(100, 99999), year=r.choice([2023, 2024, 2025]))
        return ("file", name, size)

    def ooo(self, orig, contact):
        r = self.rng
        ts = orig.date + r.randrange(5, 120)
        lang = contact.locale if contact.locale in ("de", "fr") else "en"
        subj = {"de": "Abwesenheitsnotiz: ", "fr": "Réponse automatique : "}.get(lang, "Automatic reply: ") + orig.subject
        p = self.base("ooo", ts, contact, [self.w.user], (), subj, contact.mailer, contact.tz, lang)
        p.text = {"de": "Vielen Dank für Ihre Nachricht. Ich bin bis zum %d.%d. nicht im Büro und habe keinen Zugriff "
                        "auf meine E-Mails. In dringenden Fällen wenden Sie sich bitte an %s.",
                  "fr": "Je suis absent(e) jusqu'au %d/%d. Pour toute urgence, merci de contacter %s.",
                  }.get(lang, "Thank you for your message. I am out of the office until %d/%d with limited access "
                              "to e-mail. For urgent matters please contact %s.") % (
            r.randrange(1, 28), r.randrange(1, 12), contact.org.roles and next(iter(contact.org.roles.values()))
            if contact.org else "my colleagues")
        p.parent, p.refs, p.folder = orig, [orig.msgid], self.in_folder(contact.org, ts)
        p.msgid = msgid_for(r, contact.mailer, contact.addr.split("@")[1], ts)
        self.add(p)

    def newsletter(self):
        r, w = self.rng, self.w
        brand, addr, dom, _ = weighted_cum(r, w.newsletters, w.news_cum)
        ts = self.business_time(self.thread_start(), "eu")
        subj = r.choice(["{b}: {t} trends for {y}", "Your {b} for {d}", "{t}: 7 things you missed this week",
                         "[Webinar] How {t} teams close deals faster", "{b} – Ausgabe {n}",
                         "🚀 New in {y}: {t} playbook", "Last chance: {n}% off {t} Summit tickets",
                         "Einladung: {t}-Frühstück in München"]).format(
            b=brand, t=r.choice(NEWS_TOPICS), y=r.choice([2024, 2025]), d=fmt_date(ts, "eu", 3)[:11],
            n=r.randrange(2, 60))
        p = self.base("news", ts, None, [w.user], (), subj, "bulk", "utc", "en")
        p.frm_addr = (brand, addr)
        p.news = (brand, addr, dom)
        p.folder = ".Newsletters" if r.random() < 0.4 else ("" if ts > END - 365 * 86400 else ".Archive")
        p.msgid = msgid_for(r, "bulk", dom, ts)
        self.add(p)

    def notification(self):
        r, w = self.rng, self.w
        name, dom, local, subjects = r.choice(SERVICES)
        ts = self.business_time(self.thread_start(), "eu") + r.randrange(-7200, 7200)
        person = weighted_cum(r, w.orgs, w.org_cum).people[0]
        subj = r.choice(subjects).format(name=person.native, doc=r.choice(DOCS).format(n=r.randrange(100, 9999),
                                                                                       year=2025),
                                         ticket=r.randrange(10000, 99999), n=r.randrange(2, 90),
                                         org=person.org.short, date=fmt_date(ts, "eu", 3)[:11])
        p = self.base("notify", ts, None, [w.user], (), subj, "bulk", "utc", "en")
        p.frm_addr = (name, "%s@%s" % (local, dom))
        p.service = (name, dom, person)
        p.folder = ".Notifications" if r.random() < 0.5 else ""
        p.msgid = msgid_for(r, "bulk", dom, ts)
        if name == "MeetWell":  # scheduling tools send real invitations
            self.uids += 1
            mts = ts + r.randrange(1, 10) * 86400
            mts -= mts % 1800
            p.cal = {"method": "CANCEL" if subj.startswith("Cancelled") else "REQUEST", "uid": self.uids,
                     "start": mts, "dur": 1800, "seq": 0, "attendees": [w.user, person], "summary": subj,
                     "style": "google", "partstat": "NEEDS-ACTION", "organizer": w.user}
        self.add(p)

    def role_mail(self):
        r, w = self.rng, self.w
        org = weighted_cum(r, w.orgs, w.org_cum)
        role, addr = r.choice(sorted(org.roles.items()))
        ts = self.business_time(self.thread_start(), org.tz)
        subj = r.choice(["Invoice {inv}", "Remittance advice {inv}", "Your request #{t}", "Order confirmation {t}",
                         "Auftragsbestätigung {t}", "Updated bank details", "Change of address",
                         "Re: Your enquiry", "Holiday opening hours"]).format(inv="INV-%06d" % r.randrange(999999),
                                                                             t=r.randrange(10000, 99999))
        p = self.base("role", ts, None, [w.user], (), subj, org.mailer, org.tz, "en")
        p.frm_addr = (r.choice(["", org.short + " " + role.capitalize(), org.name, role.capitalize() + " Team"]), addr)
        p.org = org
        p.text = ("Dear Ms Hoffmann,\n\n%s\n\nIf you have any questions, please reply to this e-mail.\n\n"
                  "Kind regards\n%s\n%s\n%s\n" % (
                      r.choice(["Please find attached our invoice for the services rendered.",
                                "We have received your request and will get back to you shortly.",
                                "Please note that our bank details have changed as of next month.",
                                "Attached is the remittance advice for your invoice.",
                                "Thank you for your order, which we hereby confirm."]),
                      p.frm_addr[0] or org.name, org.name, "www." + org.domain))
        if "nvoice" in subj or "Remittance" in subj or r.random() < 0.2:
            p.attach.append(("file", "%s.pdf" % subj.replace(" ", "_"), int(min(400_000, r.lognormvariate(10.5, 0.6)))))
        p.folder = self.in_folder(org, ts)
        p.msgid = msgid_for(r, org.mailer, addr.split("@")[1], ts)
        self.add(p)

    def list_thread(self):
        r, w = self.rng, self.w
        L = r.choice(w.lists)
        length = min(1 + int(r.expovariate(0.35)), 25)
        ts = self.thread_start()
        topic = r.choice(["Best CRM for a 20-person team?", "Forecasting accuracy", "Handling EU VAT on SaaS invoices",
                          "Recommendations for e-signature tools", "Re-engaging churned customers",
                          "Pipeline hygiene tips", "Commission plans 2025", "Vendor onboarding questionnaire",
                          "Slow query with large IN list", "ANN: meetup in Berlin", "Umstellung auf XRechnung",
                          "Multipart parsing of broken boundaries", "Q: deal stages definitions"])
        refs, prev = [], None
        for i in range(length):
            sender = weighted_cum(r, L["members"], L["cum"])
            if i > 0 and r.random() < 0.05 and L["name"] != "ourco-all":
                sender = w.user
            if i > 0:
                ts += r.randrange(300, 2 * 86400)
            if ts > END:
                break
            subj = L["prefix"] + ("Re: " if i else "") + topic
            p = self.base("list", ts, sender, [], (), subj, sender.mailer, sender.tz, "en")
            p.to = [("list", L["addr"])]
            if i > 0 and prev is not None and r.random() < 0.3:
                p.cc = [prev.sender]
            p.listinfo = L
            p.outgoing = sender is w.user
            p.folder = ".Sent" if p.outgoing else L["folder"]
            p.text = self.body_text("en", sender, prev.sender if prev else None, sender.org)
            p.parent, p.refs, p.n = prev, list(refs), i
            p.msgid = msgid_for(r, sender.mailer, sender.addr.split("@")[1], ts)
            self.add(p)
            # A direct copy when the user was in Cc: same Message-ID, no list headers.
            if i > 0 and prev is not None and prev.sender is w.user and r.random() < 0.5:
                d = self.base("list", ts, sender, [w.user], [], subj, sender.mailer, sender.tz, "en")
                for k in Plan.__slots__:
                    if k not in ("idx", "rseed", "new", "dup_of", "defect"):
                        setattr(d, k, getattr(p, k))
                d.cc = [w.user]
                d.folder = ""
                d.listinfo = dict(L, direct=True)
                self.add(d)
                d.rseed = p.rseed
            refs.append(p.msgid)
            prev = p
            if len(self.plans) >= self.n:
                break

    def cold(self):
        r, w = self.rng, self.w
        sender = r.choice(w.cold)
        ts = self.business_time(self.thread_start(), sender.tz)
        subj = r.choice(["Quick question, {f}", "{o} x OurCo", "Partnership opportunity", "15 minutes next week?",
                         "Following up", "Re: our conversation"]).format(f=w.user.first, o=sender.org.short)
        p = self.base("cold", ts, sender, [w.user], (), subj, sender.mailer, sender.tz, "en")
        p.org = sender.org
        p.text = self.body_text("en", sender, w.user, sender.org, 3)
        p.folder = ""
        p.msgid = msgid_for(r, sender.mailer, sender.addr.split("@")[1], ts)
        self.add(p)

    def bounce(self):
        r, w = self.rng, self.w
        ts = self.thread_start()
        org = r.choice(w.orgs)
        bad = "%s@%s" % (r.choice(["j.doe", "old.contact", "info", "vertrieb"]), org.domain)
        p = self.base("bounce", ts, None, [w.user], (), "Undeliverable: " + self.fill_subject(
            r.choice(TOPICS[0][1]), org, None), "other", "eu", "en")
        p.frm_addr = ("Mail Delivery System", "MAILER-DAEMON@mx1." + OUR["domain"])
        p.service = ("bounce", bad, None)
        p.msgid = msgid_for(r, "other", "mx1." + OUR["domain"], ts)
        p.folder = ""
        self.add(p)

    def forward(self):
        """A colleague forwards a customer's message as an attachment (message/rfc822)."""
        r, w = self.rng, self.w
        c = r.choice(w.colleagues)
        org = weighted_cum(r, w.orgs, w.org_cum)
        inner = org.people[0]
        ts = self.business_time(self.thread_start(), "eu")
        topic, tmpls = r.choice(TOPICS)
        inner_subj = self.fill_subject(r.choice(tmpls), org, inner)
        p = self.base("fwd", ts, c, [w.user], (), r.choice(FWD_PREFIX["en"] + FWD_PREFIX["de"]) + inner_subj,
                      c.mailer, "eu", "en")
        p.text = self.body_text("en", c, w.user, w.us, 1)
        inner_text = self.body_text(inner.locale if inner.locale in SENT_BY_LANG else "en", inner, c, org)
        p.fwd = {"sender": inner, "to": c, "subject": inner_subj, "date": ts - r.randrange(3600, 5 * 86400),
                 "text": inner_text, "msgid": msgid_for(r, inner.mailer, inner.addr.split("@")[1], ts)}
        p.msgid = msgid_for(r, c.mailer, c.addr.split("@")[1], ts)
        p.folder = self.in_folder(org, ts)
        p.org = org
        self.add(p)

    def plan_all(self):
        r = self.rng
        kinds = ["sales", "internal", "news", "notify", "list", "role", "cold", "bounce", "fwd"]
        weights = [26, 6, 14, 10, 4, 5, 2, 0.3, 0.8]
        while len(self.plans) < self.n:
            k = weighted(r, kinds, weights)
            if k == "sales":
                self.sales_thread()
            elif k == "internal":
                self.sales_thread(internal=True)
            elif k == "news":
                self.newsletter()
            elif k == "notify":
                self.notification()
            elif k == "list":
                self.list_thread()
            elif k == "role":
                self.role_mail()
            elif k == "cold":
                self.cold()
            elif k == "bounce":
                self.bounce()
            else:
                self.forward()
            # Copies: a message filed twice (moved and copied), the same bytes in another folder.
            if r.random() < 0.004 and self.plans:
                src = self.plans[-1]
                d = Plan()
                for s in Plan.__slots__:
                    setattr(d, s, getattr(src, s))
                self.add(d)
                d.rseed, d.dup_of = src.rseed, src
                d.folder = ".Archive" if src.folder != ".Archive" else ""
        del self.plans[self.n:]
        # Trash: a few messages, dropped from where they were.
        for _ in range(max(3, self.n // 300)):
            p = r.choice(self.plans)
            if p.dup_of is None:
                p.folder = ".Trash"
        # Defects, ~0.5%.
        defects = ["no-msgid", "no-date", "bad-encword", "bad-addr", "8bit-header", "bad-encword", "8bit-header",
                   "bad-addr", "no-msgid", "bad-date"]
        for _ in range(max(len(defects), self.n // 200)):
            p = r.choice(self.plans)
            if p.dup_of is None and p.kind != "bounce":
                p.defect = r.choice(defects)
        for p in self.plans:
            if p.dup_of is not None:
                p.defect = p.dup_of.defect
        # The newest unread mail lands in new/.
        recent = sorted((p for p in self.plans if not p.outgoing and p.folder in ("", ".Lists.SalesOps")),
                        key=lambda p: (-p.date, p.idx))
        for k, p in enumerate(recent):
            if k < max(2, self.n // 500) or p.date > END - 86400:
                p.new = r.random() < 0.8
        return self.plans


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------

class _Fill(dict):
    """Placeholders for the sentence pools, drawn only when a sentence uses them."""

    def __init__(self, r, colleagues):
        super().__init__()
        self.r, self.colleagues = r, colleagues

    def __missing__(self, key):
        r = self.r
        if key == "product":
            return r.choice(PRODUCTS)
        if key == "month":
            return r.choice(MONTHS)
        if key == "seats":
            return r.choice((25, 50, 120, 300, 1500))
        if key == "colleague":
            return r.choice(self.colleagues).first
        if key == "ticket":
            return r.randrange(10000, 99999)
        if key == "pct":
            return r.choice((10, 15, 20, 25))
        if key == "date":
            return "%d %s" % (r.randrange(1, 29), r.choice(MONTHS))
        if key == "event":
            return r.choice(EVENTS)
        raise KeyError(key)


def make_text(spec, colleagues):
    """The fresh text of a message: greeting, sentences, closing, signature. A pure function of the
    recipe, so a reply can quote its parent without the parent's text being kept around."""
    seed, lang, writer, reader, n_sent = spec
    r = random.Random(seed)
    lang = lang if lang in SENT_BY_LANG else "en"
    pool = SENT_BY_LANG[lang]
    fill = _Fill(r, colleagues)
    lines = []
    if reader is not None and r.random() < 0.92:
        g = r.choice(GREET[lang])
        lines.append(g.format(first=reader.first, last=reader.last))
        lines.append("")
    k = n_sent if n_sent is not None else weighted(r, [1, 2, 3, 4, 6, 9], [15, 25, 25, 15, 12, 8])
    para = []
    for i in range(k):
        s = r.choice(pool if r.random() < 0.8 else EN_SENT)
        if "{" in s:
            s = s.format_map(fill)
        if lang != "ja" and s[0].islower():
            s = s[0].upper() + s[1:]
        para.append(s)
        if r.random() < 0.35:
            lines.append(" ".join(para))
            lines.append("")
            para = []
    if para:
        lines.append(" ".join(para))
        lines.append("")
    lines.append(r.choice(CLOSE[lang]))
    lines.append(writer.first if r.random() < 0.5 else writer.native)
    if r.random() < 0.75:
        lines.append(signature(r, writer))
    return "\n".join(lines)


def signature(r, p):
    org = p.org
    sig = ["-- " if r.random() < 0.6 else "", p.native]
    if p.title:
        sig.append(p.title if r.random() < 0.5 else "%s | %s" % (p.title, org.name if org else ""))
    if org is not None and r.random() < 0.8:
        sig.append(org.name)
    sig.append(r.choice(["Phone: ", "Tel. ", "T: ", "Mobile: ", "M +", ""]) + p.phone.lstrip("+")
               if r.random() < 0.3 else p.phone)
    if org is not None and r.random() < 0.5:
        sig.append("www." + org.domain)
    if org is not None and org.suffix in ("de", "at") and r.random() < 0.5:
        sig.append("Sitz der Gesellschaft: München, Amtsgericht München HRB %d" % r.randrange(10000, 299999))
        sig.append("Geschäftsführer: %s %s" % (r.choice(FIRST["de"]), r.choice(LAST["de"])))
    if r.random() < 0.15:
        sig.append("")
        sig.append("This e-mail may contain confidential information. If you are not the intended recipient, "
                   "please notify the sender and delete it.")
    return "\n".join(sig)


POOL_B64 = None  # random bytes for attachments, base64-encoded once, in 57-byte lines
POOL_LINES = 0


def init_pool(seed):
    global POOL_B64, POOL_LINES
    rng = random.Random("pool:%d" % seed)
    nlines = 2_300_000 // 57 + 1
    raw = rng.randbytes(nlines * 57)
    enc = binascii.b2a_base64
    POOL_B64 = b"".join(enc(raw[i:i + 57]) for i in range(0, len(raw), 57)).decode("ascii")
    POOL_LINES = nlines


MAGIC = {"pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n",
         "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x04\x00\x00\x00\x03\x00\x08\x06\x00\x00\x00",
         "jpg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x01\x00H\x00H\x00\x00\xff\xdb\x00C\x00",
         "zip": b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00[Content_Types].xml",
         "tnef": b"\x78\x9f\x3e\x22\x01\x00\x01\x06\x90\x08\x00\x04\x00\x00\x00\x00\x00\x01\x00\x01\x00"}
MIMETYPES = {"pdf": ("application", "pdf", "pdf"), "png": ("image", "png", "png"), "jpg": ("image", "jpeg", "jpg"),
             "jpeg": ("image", "jpeg", "jpg"), "docx": ("application",
                                                        "vnd.openxmlformats-officedocument.wordprocessingml.document", "zip"),
             "xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet", "zip"),
             "pptx": ("application", "vnd.openxmlformats-officedocument.presentationml.presentation", "zip")}


def blob_b64(rng, kind, size):
    """Base64 text for a size-byte file starting with the right magic: one encoded header line, then
    whole lines of the pool (so no per-byte work)."""
    head = MAGIC[kind]
    head = (head + b"\x00" * 57)[:57]
    n = max(1, size // 57 - 1)
    start = rng.randrange(0, POOL_LINES - n)
    return binascii.b2a_base64(head).decode("ascii") + POOL_B64[start * 77:(start + n) * 77]


def new_msg():
    return Message(policy=POLICY)


def text_part(rng, text, subtype="plain", charset="utf-8", cte=None, flowed=False):
    m = new_msg()
    if charset == "us-ascii" and not is_ascii(text):
        charset = "utf-8"
    if charset == "iso-8859-1" and not latin1_ok(text):
        charset = "utf-8"
    if charset == "iso-2022-jp":
        try:
            text.encode("iso-2022-jp")
        except UnicodeEncodeError:
            charset = "utf-8"
    data = text.encode(charset)
    if cte is None:
        cte = "7bit" if is_ascii(text) else "quoted-printable"
    if charset == "iso-2022-jp":
        cte = "7bit"
    if cte == "quoted-printable":
        payload = qp_body(data)
    elif cte == "base64":
        payload = b64_body(data)
    elif cte == "8bit":
        payload = surrogate(data)
    else:
        if not is_ascii(data.decode("latin-1")) and charset != "iso-2022-jp":
            cte, payload = "quoted-printable", qp_body(data)
        else:
            payload = data.decode("ascii")
    ct = 'text/%s; charset="%s"' % (subtype, charset) if rng.random() < 0.5 else "text/%s; charset=%s" % (subtype,
                                                                                                        charset)
    if flowed:
        ct += "; format=flowed"
    m["Content-Type"] = ct
    m["Content-Transfer-Encoding"] = cte
    m.set_payload(payload)
    return m


def multipart(subtype, parts, boundary, extra=None):
    m = new_msg()
    ct = 'multipart/%s; boundary="%s"' % (subtype, boundary)
    if extra:
        ct = 'multipart/%s; %s; boundary="%s"' % (subtype, extra, boundary)
    m["Content-Type"] = ct
    m.set_payload(list(parts))
    return m


def boundary_for(rng, mailer, depth):
    if mailer == "outlook":
        return "_%03d_%s%s_" % (depth, rng.choice(["AM0PR07MB", "DB8PR04MB", "VI1PR02MB"]), hexid(rng, 28).upper())
    if mailer == "gmail":
        return "000000000000%s" % hexid(rng, 16)
    if mailer == "apple":
        return "Apple-Mail=_%s" % uuid_str(rng, True)
    if mailer == "thunderbird":
        return "------------%s" % b64id(rng, 18).replace("/", "").replace("+", "")[:24]
    return "----=_Part_%d_%d.%d" % (rng.randrange(10**5, 10**7), rng.randrange(10**8, 10**9),
                                    rng.randrange(10**12, 10**13))


def encode_attach_name(rng, name):
    """Content-Disposition/Content-Type name parameters: RFC 2231 or RFC 2047 for non-ASCII."""
    if is_ascii(name):
        return 'filename="%s"' % name, 'name="%s"' % name
    if rng.random() < 0.6:
        from urllib.parse import quote
        q = quote(name.encode("utf-8"), safe="")
        return "filename*=utf-8''%s" % q, "name*=utf-8''%s" % q
    enc = enc_words(name, CS_UTF8_B)
    return 'filename="%s"' % enc, 'name="%s"' % enc


def attachment_part(rng, name, size):
    ext = name.rsplit(".", 1)[-1].lower()
    maj, sub, magic = MIMETYPES.get(ext, ("application", "octet-stream", "pdf"))
    m = new_msg()
    fn, nm = encode_attach_name(rng, name)
    m["Content-Type"] = "%s/%s; %s" % (maj, sub, nm)
    m["Content-Disposition"] = "attachment; %s%s" % (fn, "; size=%d" % size if rng.random() < 0.3 else "")
    m["Content-Transfer-Encoding"] = "base64"
    m.set_payload(blob_b64(rng, magic, size))
    return m


class Renderer:
    def __init__(self, world, plans, seed):
        self.w, self.plans, self.seed = world, plans, seed
        self.texts = {}

    def text(self, t):
        """A plan's text: a string, or a recipe for make_text (cached: replies quote their parents)."""
        if t is None or isinstance(t, str):
            return t or ""
        s = self.texts.get(t[0])
        if s is None:
            if len(self.texts) > 4096:
                self.texts.clear()
            s = self.texts[t[0]] = make_text(t, self.w.colleagues)
        return s

    # ---------------------------------------------------------------- addresses
    def display(self, rng, p):
        """One rendering of a person's mailbox: name forms vary per message, like real mail."""
        addr = p.addr
        if p.alt_addrs and rng.random() < 0.25:
            addr = rng.choice(p.alt_addrs)
        if rng.random() < 0.03:
            addr = addr[0].upper() + addr[1:addr.index("@") + 1] + addr[addr.index("@") + 1:].capitalize()
        x = rng.random()
        if p.kind == "user":
            name = p.native
        elif x < 0.10:
            return addr  # bare address
        elif x < 0.17:
            name = "%s, %s" % (p.last, p.first) if not p.family_first else p.native
        elif x < 0.20 and p.org is not None:
            name = "%s | %s" % (p.native, p.org.short)
        elif x < 0.22:
            name = "'%s'" % addr  # Outlook's "name is the address"
        elif x < 0.25:
            name = p.ascii_name  # the ASCII form of the name, as some systems write it
        elif x < 0.27:
            name = "%s %s" % (p.first, p.last.upper())
        elif x < 0.30 and p.org is not None:
            name = "%s (%s)" % (p.native, p.org.short)
        else:
            name = p.native
        return self.format_addr(rng, name, addr)

    def format_addr(self, rng, name, addr):
        if not name:
            return addr
        if is_ascii(name):
            if any(c in name for c in ',.()<>@;:"[]\\'):
                return '"%s" <%s>' % (name.replace("\\", "\\\\").replace('"', '\\"'), addr)
            return "%s <%s>" % (name, addr) if rng.random() < 0.85 else '"%s" <%s>' % (name, addr)
        y = rng.random()
        if latin1_ok(name) and y < 0.25:
            cs = CS_LATIN1_Q if y < 0.18 else CS_LATIN1_B
        elif y < 0.65:
            cs = CS_UTF8_B
        else:
            cs = CS_UTF8_Q
        if any("\u3000" <= c <= "\u9fff" for c in name) and rng.random() < 0.4:
            try:
                name.encode("iso-2022-jp")
                cs = CS_JIS
            except UnicodeEncodeError:
                pass
        return "%s <%s>" % (enc_words(name, cs), addr)

    def addr_list(self, rng, people, group=None):
        out = []
        for p in people:
            if isinstance(p, tuple):
                out.append(p[1])
            else:
                out.append(self.display(rng, p))
        if group and len(out) > 1:
            return "%s: %s;" % (group, ", ".join(out))
        return ", ".join(out)

    def subject(self, rng, s):
        if is_ascii(s):
            return s
        y = rng.random()
        if latin1_ok(s) and y < 0.2:
            cs = CS_LATIN1_Q
        elif y < 0.6:
            cs = CS_UTF8_Q
        else:
            cs = CS_UTF8_B
        if any("\u3000" <= c <= "\u9fff" for c in s) and y < 0.5:
            try:
                s.encode("iso-2022-jp")
                cs = CS_JIS
            except UnicodeEncodeError:
                pass
        return enc_words(s, cs)

    # ---------------------------------------------------------------- transport headers
    def received(self, rng, m, p, frm_domain):
        ts = p.date
        hops = []
        our_mx = "mx%d.%s" % (rng.randrange(1, 3), OUR["domain"])
        t = ts + rng.randrange(1, 40)
        ip = "%d.%d.%d.%d" % (rng.randrange(20, 220), rng.randrange(256), rng.randrange(256), rng.randrange(1, 255))
        hops.append("from mail.%s (localhost [127.0.0.1])\n\tby imap.%s (Dovecot) with LMTP id %s\n\tfor <%s>; %s"
                    % (OUR["domain"], OUR["domain"], b64id(rng, 12), self.w.user.addr, fmt_date(t + 2, "eu", 0)))
        hops.append("from %s (%s [%s])\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\n"
                    "\tby %s (Postfix) with ESMTPS id %s\n\tfor <%s>; %s"
                    % ((frm_domain.replace(".", "-") + ".mail.protection.outlook.com")
                       if p.mailer == "outlook" else "mail." + frm_domain, "mail." + frm_domain, ip, our_mx,
                       hexid(rng, 11).upper(), self.w.user.addr, fmt_date(t, "eu", 0)))
        if p.mailer == "outlook":
            node = "%s%dPR%02dMB%04d" % (rng.choice(["AM", "DB", "VI"]), rng.randrange(9), rng.randrange(99),
                                         rng.randrange(9999))
            hops.append("from %s.eurprd04.prod.outlook.com (2603:10a6:20b:%x::%x) by\n %s.eurprd04.prod.outlook.com "
                        "with Microsoft SMTP Server (version=TLS1_2,\n cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) "
                        "id 15.20.%d.%d; %s" % (node, rng.randrange(65535), rng.randrange(65535), node,
                                               rng.randrange(7000, 8999), rng.randrange(10, 99),
                                               fmt_date(ts + 1, "utc", 1)))
        elif p.mailer == "gmail":
            hops.append("by mail-lj1-f%d.google.com with SMTP id %s\n        for <%s>; %s"
                        % (rng.randrange(170, 199), hexid(rng, 16), self.w.user.addr, fmt_date(ts + 1, "usw", 1)))
        for h in hops:
            m["Received"] = h
        if rng.random() < 0.8:
            m["Authentication-Results"] = ("%s;\n\tdkim=pass (2048-bit key; unprotected) header.d=%s "
                                           "header.i=@%s header.b=\"%s\";\n\tdmarc=pass (p=quarantine dis=none) "
                                           "header.from=%s" % (our_mx, frm_domain, frm_domain, b64id(rng, 6),
                                                               frm_domain))
            m["DKIM-Signature"] = ("v=1; a=rsa-sha256; c=relaxed/relaxed; d=%s;\n\ts=%s; t=%d;\n\t"
                                   "h=from:to:subject:date:message-id:mime-version;\n\tbh=%s;\n\tb=%s"
                                   % (frm_domain, rng.choice(["selector1", "google", "s1", "k1", "dkim"]), p.date,
                                      b64id(rng, 32), "\n\t ".join(
                                          b64id(rng, 256)[i:i + 64] for i in range(0, 344, 64))))

    # ---------------------------------------------------------------- bodies
    @staticmethod
    def quote_lines(text):
        return "\n".join((">" + l if l.startswith(">") else "> " + l) if l else ">" for l in text.split("\n"))

    def intro(self, par, lang, rule):
        name = par.sender.native if par.sender else (par.frm_addr[0] if par.frm_addr else "")
        addr = par.sender.addr if par.sender else (par.frm_addr[1] if par.frm_addr else "")
        if lang == "de":
            return "Am %s schrieb %s <%s>:" % (fmt_date(par.date, rule, 3)[:-6], name, addr)
        if lang == "fr":
            return "Le %s, %s <%s> a écrit :" % (fmt_date(par.date, rule, 3)[:-6], name, addr)
        return "On %s, %s <%s> wrote:" % (fmt_date(par.date, rule, 1)[:-6], name, addr)

    def history(self, par, lang, rule, depth):
        """A message's text with what it quoted, up to depth messages back (replies grow down a thread)."""
        t = self.text(par.text)
        if depth > 1 and par.parent is not None and par.parent.text:
            t += "\n\n" + self.intro(par.parent, lang, rule) + "\n" + self.quote_lines(
                self.history(par.parent, lang, rule, depth - 1))
        return t

    def quote(self, rng, plan, mailer):
        par = plan.parent
        if par is None or not par.text or rng.random() < 0.15:
            return "", ""
        rule = plan.tz if plan.tz in TZ_STD else "eu"
        ptext = self.history(par, plan.lang, rule, rng.choice((1, 2, 3, 3, 4)))
        if len(ptext) > 8000:
            ptext = ptext[:8000].rsplit("\n", 1)[0] + "\n[...]"
        if mailer == "outlook":
            sender_name = par.sender.native if par.sender else ""
            sender_addr = par.sender.addr if par.sender else ""
            hdr = ("-----Original Message-----\nFrom: %s <%s>\nSent: %s\nTo: %s\nSubject: %s\n"
                   % (sender_name, sender_addr, fmt_date(par.date, rule, 1), ", ".join(
                       t.native if not isinstance(t, tuple) else t[1] for t in par.to), par.subject))
            if rng.random() < 0.5:
                hdr = hdr.replace("-----Original Message-----\n", "________________________________\n")
                hdr = hdr.replace("Sent:", "Gesendet:") if plan.lang == "de" else hdr
            return "\n\n" + hdr + "\n" + ptext, "outlook"
        return "\n\n" + self.intro(par, plan.lang, rule) + "\n" + self.quote_lines(ptext), "gt"

    def html_of(self, rng, text, quote_text, mailer):
        esc = (lambda s: s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
        paras = [esc(x).replace("\n", "<br>\n") for x in text.split("\n\n")]
        if mailer == "outlook":
            head = ('<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
                    'xmlns:w="urn:schemas-microsoft-com:office:word" xmlns:m="http://schemas.microsoft.com/office/2004'
                    '/12/omml" xmlns="http://www.w3.org/TR/REC-html40">\n<head>\n<meta http-equiv="Content-Type" '
                    'content="text/html; charset=utf-8">\n<meta name="Generator" content="Microsoft Word 15 (filtered '
                    'medium)">\n<style><!--\n/* Font Definitions */\n@font-face\n\t{font-family:"Cambria Math";\n\t'
                    'panose-1:2 4 5 3 5 4 6 3 2 4;}\n@font-face\n\t{font-family:Calibri;\n\tpanose-1:2 15 5 2 2 2 4 3 '
                    '2 4;}\n@font-face\n\t{font-family:Aptos;}\n/* Style Definitions */\np.MsoNormal, li.MsoNormal, '
                    'div.MsoNormal\n\t{margin:0cm;\n\tfont-size:11.0pt;\n\tfont-family:"Calibri",sans-serif;\n\t'
                    'mso-ligatures:standardcontextual;\n\tmso-fareast-language:EN-US;}\na:link, span.MsoHyperlink\n\t'
                    '{mso-style-priority:99;\n\tcolor:#0563C1;\n\ttext-decoration:underline;}\nspan.E-MailFormatvorlage'
                    '17\n\t{mso-style-type:personal-compose;\n\tfont-family:"Calibri",sans-serif;\n\tcolor:windowtext;}'
                    '\n.MsoChpDefault\n\t{mso-style-type:export-only;\n\tfont-size:10.0pt;\n\tmso-fareast-language:'
                    'EN-US;}\n@page WordSection1\n\t{size:612.0pt 792.0pt;\n\tmargin:70.85pt 70.85pt 2.0cm 70.85pt;}\n'
                    'div.WordSection1\n\t{page:WordSection1;}\n--></style><!--[if gte mso 9]><xml>\n<o:shapedefaults '
                    'v:ext="edit" spidmax="1026" />\n</xml><![endif]--><!--[if gte mso 9]><xml>\n<o:shapelayout v:ext='
                    '"edit">\n<o:idmap v:ext="edit" data="1" />\n</o:shapelayout></xml><![endif]-->\n</head>\n<body '
                    'lang="DE" link="#0563C1" vlink="#954F72" style="word-wrap:break-word">\n<div class="WordSection1">'
                    '\n')
            body = "".join('<p class="MsoNormal"><span lang="EN-US">%s<o:p></o:p></span></p>\n<p class="MsoNormal">'
                           '<span lang="EN-US"><o:p>&nbsp;</o:p></span></p>\n' % x for x in paras)
            if quote_text:
                body += ('<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">\n'
                         '<p class="MsoNormal">%s</p>\n</div>\n' % esc(quote_text).replace("\n", "<br>\n"))
            return head + body + "</div>\n</body>\n</html>\n"
        if mailer == "gmail":
            body = '<div dir="ltr">' + "".join("<div>%s</div><div><br></div>" % x for x in paras) + "</div>"
            if quote_text:
                body += ('<br><div class="gmail_quote"><blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;'
                         'border-left:1px solid rgb(204,204,204);padding-left:1ex">%s</blockquote></div>'
                         % esc(quote_text).replace("\n", "<br>\n"))
            return body + "\n"
        body = ('<html><head><meta http-equiv="content-type" content="text/html; charset=UTF-8"></head><body>\n'
                + "".join("<p>%s</p>\n" % x for x in paras))
        if quote_text:
            body += '<blockquote type="cite">%s</blockquote>\n' % esc(quote_text).replace("\n", "<br>\n")
        return body + "</body></html>\n"

    def body_parts(self, rng, p, text, mailer):
        """text/plain alone, or multipart/alternative with HTML (and a related inline logo)."""
        quote_text, _ = self.quote(rng, p, mailer)
        full = text + quote_text
        charset = "utf-8"
        if mailer == "other" and latin1_ok(full) and rng.random() < 0.6:
            charset = rng.choice(["iso-8859-1", "iso-8859-1", "windows-1252", "iso-8859-15"])
            try:
                full.encode(charset)
            except UnicodeEncodeError:
                charset = "utf-8"
        if p.lang == "ja" and rng.random() < 0.6:
            charset = "iso-2022-jp"
        plain_only = {"outlook": 0.08, "gmail": 0.1, "apple": 0.45, "thunderbird": 0.6, "other": 0.6}[mailer]
        if mailer == "thunderbird":
            cte = "8bit" if not is_ascii(full) and rng.random() < 0.5 else None
            flowed = rng.random() < 0.7
            plain = text_part(rng, wrap_text(full, 72, flowed), "plain", charset, cte, flowed=flowed)
        elif mailer == "outlook":
            plain = text_part(rng, full, "plain", charset, "quoted-printable" if not is_ascii(full) or
                              rng.random() < 0.5 else "7bit")
        elif mailer == "apple" or mailer == "gmail":
            plain = text_part(rng, full, "plain", charset, "quoted-printable" if not is_ascii(full) else "7bit")
        else:
            plain = text_part(rng, wrap_text(full, 76, False), "plain", charset,
                              rng.choice(["quoted-printable", "8bit", "base64"]) if not is_ascii(full) else None)
        if rng.random() < plain_only:
            return plain
        html = self.html_of(rng, text, quote_text[2:] if quote_text else "", mailer)
        hpart = text_part(rng, html, "html", "utf-8" if charset == "iso-2022-jp" else charset,
                          "base64" if mailer == "other" and rng.random() < 0.3 else "quoted-printable")
        alt = multipart("alternative", [plain, hpart], boundary_for(rng, mailer, 1))
        if mailer == "outlook" and rng.random() < 0.25:  # signature logo
            img = new_msg()
            img["Content-Type"] = 'image/png; name="image001.png"'
            img["Content-Description"] = "image001.png"
            img["Content-Disposition"] = 'inline; filename="image001.png"; size=%d' % 8123
            img["Content-ID"] = "<image001.png@01DA%s.%s>" % (hexid(rng, 4).upper(), hexid(rng, 8).upper())
            img["Content-Transfer-Encoding"] = "base64"
            img.set_payload(blob_b64(rng, "png", rng.randrange(3000, 14000)))
            inner = multipart("alternative", [plain, hpart], boundary_for(rng, mailer, 2))
            return multipart("related", [inner, img], boundary_for(rng, mailer, 1), 'type="multipart/alternative"')
        return alt

    def calendar_text(self, rng, p):
        c = p.cal
        organizer = c.get("organizer") or p.sender
        rule = organizer.tz if hasattr(organizer, "tz") else "eu"
        style = c["style"]
        lines = ["BEGIN:VCALENDAR"]
        if style == "outlook":
            lines.append("PRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN")
        elif style == "google":
            lines.append("PRODID:-//Google Inc//Google Calendar 70.9054//EN")
        else:
            lines.append("PRODID:-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN")
        lines += ["VERSION:2.0", "CALSCALE:GREGORIAN", "METHOD:" + c["method"]]
        tzid = None
        if style == "outlook":
            tzid = {"eu": "W. Europe Standard Time", "uk": "GMT Standard Time", "us": "Eastern Standard Time",
                    "usw": "Pacific Standard Time", "jp": "Tokyo Standard Time",
                    "au": "AUS Eastern Standard Time"}.get(rule)
            if tzid:
                std, _ = TZ_STD[rule], 0
                dst_rules = {"eu": ("-1SU", 3, 10), "uk": ("-1SU", 3, 10), "us": ("2SU", 3, 11), "usw": ("2SU", 3, 11),
                             "au": ("1SU", 10, 4)}
                lines += ["BEGIN:VTIMEZONE", "TZID:" + tzid]
                o = TZ_STD[rule]
                fo = "%s%02d%02d" % ("+" if o >= 0 else "-", abs(o) // 60, abs(o) % 60)
                if rule in dst_rules:
                    d = dst_rules[rule]
                    o2 = o + 60
                    so = "%s%02d%02d" % ("+" if o2 >= 0 else "-", abs(o2) // 60, abs(o2) % 60)
                    lines += ["BEGIN:STANDARD", "DTSTART:16010101T030000", "TZOFFSETFROM:" + so, "TZOFFSETTO:" + fo,
                              "RRULE:FREQ=YEARLY;BYDAY=%s;BYMONTH=%d" % ("-1SU" if rule in ("eu", "uk") else "1SU",
                                                                        d[2]),
                              "END:STANDARD", "BEGIN:DAYLIGHT", "DTSTART:16010101T020000", "TZOFFSETFROM:" + fo,
                              "TZOFFSETTO:" + so, "RRULE:FREQ=YEARLY;BYDAY=%s;BYMONTH=%d" % (d[0], d[1]),
                              "END:DAYLIGHT"]
                else:
                    lines += ["BEGIN:STANDARD", "DTSTART:16010101T000000", "TZOFFSETFROM:" + fo, "TZOFFSETTO:" + fo,
                              "END:STANDARD"]
                lines.append("END:VTIMEZONE")
        elif style == "google" and rule == "eu":
            tzid = "Europe/Berlin"
            lines += ["BEGIN:VTIMEZONE", "TZID:Europe/Berlin", "X-LIC-LOCATION:Europe/Berlin", "BEGIN:DAYLIGHT",
                      "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200", "TZNAME:CEST", "DTSTART:19700329T020000",
                      "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", "END:DAYLIGHT", "BEGIN:STANDARD",
                      "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "TZNAME:CET", "DTSTART:19701025T030000",
                      "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", "END:STANDARD", "END:VTIMEZONE"]
        lines.append("BEGIN:VEVENT")
        if tzid:
            lines.append("DTSTART;TZID=%s:%s" % ('"%s"' % tzid if " " in tzid and rng.random() < 0.3 else tzid,
                                                 ical_local(c["start"], rule)))
            lines.append("DTEND;TZID=%s:%s" % (tzid, ical_local(c["start"] + c["dur"], rule)))
        else:
            lines.append("DTSTART:" + ical_time(c["start"]))
            lines.append("DTEND:" + ical_time(c["start"] + c["dur"]))
        lines.append("DTSTAMP:" + ical_time(p.date))
        oname = organizer.native if hasattr(organizer, "native") else ""
        lines.append('ORGANIZER;CN="%s":mailto:%s' % (oname, organizer.addr if hasattr(organizer, "addr") else ""))
        uid = ("%s@google.com" % b64id(random.Random(c["uid"] * 7919 + self.seed), 18).replace("/", "").replace("+", "")
               if style == "google" else
               "040000008200E00074C5B7101A82E008000000%s" % hexid(random.Random(c["uid"] * 7919 + self.seed), 66).upper())
        lines.append("UID:" + uid)
        for a in c["attendees"]:
            if isinstance(a, tuple):
                continue
            ps = "NEEDS-ACTION"
            if c["method"] == "REPLY":
                if a is not p.sender:
                    continue
            if c["method"] == "REPLY" or a is organizer:
                ps = c["partstat"] if c["method"] == "REPLY" else "ACCEPTED"
            lines.append('ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=%s;RSVP=TRUE;CN="%s";X-NUM-GUESTS=0:'
                         'mailto:%s' % (ps, a.native, a.addr))
        if c["method"] == "REPLY" and p.sender not in c["attendees"]:
            lines.append('ATTENDEE;PARTSTAT=%s;CN="%s":mailto:%s' % (c["partstat"], p.sender.native, p.sender.addr))
        lines.append("SUMMARY:" + c["summary"].replace(",", "\\,").replace(";", "\\;"))
        lines.append("DESCRIPTION:" + ("Join the meeting: https://meet.%s/%s\\n\\nAgenda:\\n- Introductions\\n- "
                                       "Requirements\\n- Next steps" % (OUR["domain"], hexid(rng, 10))))
        lines.append("LOCATION:" + rng.choice(["Microsoft Teams-Besprechung", "https://meet.google.com/abc-defg-hij",
                                               "Konferenzraum 3.OG", "Phone", "Their office\\, Level 4"]))
        lines.append("SEQUENCE:%d" % c["seq"])
        lines.append("STATUS:" + ("CANCELLED" if c["method"] == "CANCEL" else "CONFIRMED"))
        lines.append("TRANSP:OPAQUE")
        if c["method"] == "REQUEST" and rng.random() < 0.3:
            lines += ["BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:REMINDER", "TRIGGER;RELATED=START:-PT15M",
                      "END:VALARM"]
        lines += ["END:VEVENT", "END:VCALENDAR"]
        return "".join(ical_fold(l) for l in lines)

    def calendar_parts(self, rng, p, body):
        """Invitations the way Google (mixed[alt[plain, html, calendar], ics]) and Outlook (alt[plain, html,
        calendar]) send them."""
        ics = self.calendar_text(rng, p)
        cal = new_msg()
        cal["Content-Type"] = 'text/calendar; charset="utf-8"; method=%s' % p.cal["method"]
        cal["Content-Transfer-Encoding"] = "base64" if p.cal["style"] == "outlook" else "7bit"
        if p.cal["style"] == "outlook" or not is_ascii(ics):
            cal.replace_header("Content-Transfer-Encoding", "base64")
            cal.set_payload(b64_body(ics.encode("utf-8")))
        else:
            cal.set_payload(ics)
        parts = body.get_payload() if body.get_content_type() == "multipart/alternative" else [body]
        alt = multipart("alternative", list(parts) + [cal], boundary_for(rng, p.mailer, 2))
        if p.cal["style"] == "google":
            att = new_msg()
            att["Content-Type"] = 'application/ics; name="invite.ics"'
            att["Content-Disposition"] = 'attachment; filename="invite.ics"'
            att["Content-Transfer-Encoding"] = "base64"
            att.set_payload(b64_body(ics.encode("utf-8")))
            return multipart("mixed", [alt, att], boundary_for(rng, p.mailer, 1))
        return alt

    def vcard_part(self, rng, who):
        v = ["BEGIN:VCARD", "VERSION:3.0", "N:%s;%s;;;" % (who.last, who.first), "FN:" + who.native,
             "ORG:" + (who.org.name if who.org else ""), "TITLE:" + (who.title or ""),
             "TEL;TYPE=WORK,VOICE:" + who.phone, "EMAIL;TYPE=INTERNET:" + who.addr, "END:VCARD"]
        m = new_msg()
        fname = ascii_fold(who.native.replace(" ", "_"), who.locale) + ".vcf"
        m["Content-Type"] = 'text/vcard; charset=utf-8; name="%s"' % fname
        m["Content-Disposition"] = 'attachment; filename="%s"' % fname
        data = "\r\n".join(v) + "\r\n"
        if is_ascii(data):
            m["Content-Transfer-Encoding"] = "7bit"
            m.set_payload(data)
        else:
            m["Content-Transfer-Encoding"] = "quoted-printable"
            m.set_payload(qp_body(data.encode("utf-8")))
        return m

    # ---------------------------------------------------------------- kinds of message
    def newsletter_body(self, rng, p):
        brand, addr, dom = p.news
        n_items = rng.choice((3, 4, 5, 6, 8, 10, 14))
        items, html = [], []
        for i in range(n_items):
            title = "%s %s: %s" % (rng.choice(NEWS_TOPICS), rng.choice(["trends", "playbook", "benchmark", "report",
                                                                       "case study", "webinar"]),
                                   rng.choice(EN_SENT).format(product="the platform", month="May", seats=50,
                                                              colleague="Max", ticket=1, pct=10, date="1 May",
                                                              event="Summit"))
            url = "https://%s/c/%s?utm_source=newsletter&utm_medium=email&utm_campaign=%s" % (
                dom, b64id(rng, 24).replace("/", "_").replace("+", "-"), hexid(rng, 10))
            items.append("%s\n%s\n" % (title, url))
            html.append('<tr><td class="item" style="padding:16px 24px;font-family:Helvetica,Arial,sans-serif;font-size:'
                        '15px;line-height:22px;color:#333333"><a href="%s" style="color:#1a73e8;text-decoration:none">'
                        '<img src="https://cdn.%s/img/%s.jpg" width="552" alt="" style="display:block;border:0"></a>'
                        '<h2 style="margin:12px 0 4px;font-size:18px">%s</h2><p style="margin:0">%s</p>'
                        '<a href="%s" class="btn" style="display:inline-block;padding:8px 16px;background:#1a73e8;'
                        'color:#ffffff;border-radius:4px">Read more &rarr;</a></td></tr>\n'
                        % (url, dom, hexid(rng, 16), title, " ".join(rng.choice(EN_SENT) for _ in range(2))
                           .replace("{", "").replace("}", ""), url))
        unsub = "https://%s/unsubscribe?u=%s&id=%s" % (dom, hexid(rng, 24), hexid(rng, 10))
        text = ("%s\n%s\n\n" % (brand, "=" * len(brand)) + "\n".join(items) +
                "\n--\nYou receive this e-mail because you subscribed at %s.\nUnsubscribe: %s\n" % (dom, unsub))
        style = ("<style>body{margin:0;padding:0}table{border-collapse:collapse}.item h2{color:#111}"
                 "@media only screen and (max-width:600px){.item{padding:12px!important}.btn{display:block!important}}"
                 "</style>")
        htmldoc = ('<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/'
                   'xhtml1-transitional.dtd">\n<html xmlns="http://www.w3.org/1999/xhtml"><head><meta charset="utf-8">'
                   '<meta name="viewport" content="width=device-width">%s</head><body><center><table width="600" '
                   'cellpadding="0" cellspacing="0" border="0" role="presentation">\n%s</table><p style="font-size:'
                   '11px;color:#999">You receive this e-mail because you subscribed. <a href="%s">Unsubscribe</a></p>'
                   '<img src="https://%s/o/%s.gif" width="1" height="1" alt=""></center></body></html>\n'
                   % (style, "".join(html), unsub, dom, b64id(rng, 30).replace("/", "_").replace("+", "-")))
        plain = text_part(rng, text, "plain", "utf-8", "quoted-printable" if rng.random() < 0.6 else None)
        hp = text_part(rng, htmldoc, "html", "utf-8", rng.choice(["quoted-printable", "base64"]))
        return multipart("alternative", [plain, hp], boundary_for(rng, "other", 1)), unsub

    def notify_body(self, rng, p):
        name, dom, person = p.service
        text = ("Hi Julia,\n\n%s\n\nView it here: https://app.%s/n/%s\n\nYou are receiving this notification "
                "because of your settings.\nManage notifications: https://app.%s/settings\n\n%s, Inc.\n"
                % (p.subject, dom, hexid(rng, 20), dom, name))
        if rng.random() < 0.3:
            return text_part(rng, text, "plain", "utf-8")
        html = ('<html><body style="font-family:Arial"><table width="100%%"><tr><td><h3>%s</h3><p>%s</p>'
                '<p><a href="https://app.%s/n/%s">Open</a></p></td></tr></table></body></html>'
                % (name, p.subject.replace("&", "&amp;").replace("<", "&lt;"), dom, hexid(rng, 20)))
        return multipart("alternative", [text_part(rng, text, "plain", "utf-8"),
                                         text_part(rng, html, "html", "utf-8", "quoted-printable")],
                         boundary_for(rng, "other", 1))

    def bounce_body(self, rng, p):
        bad = p.service[1]
        t1 = text_part(rng, "This is the mail system at host mx1.%s.\n\nI'm sorry to have to inform you that your "
                            "message could not\nbe delivered to one or more recipients.\n\n<%s>: host mx.%s said: "
                            "550 5.1.1 User unknown (in reply to RCPT TO command)\n"
                       % (OUR["domain"], bad, bad.split("@")[1]), "plain", "us-ascii")
        t1["Content-Description"] = "Notification"
        ds = new_msg()
        ds["Content-Type"] = "message/delivery-status"
        ds["Content-Description"] = "Delivery report"
        b1, b2 = new_msg(), new_msg()
        b1["Reporting-MTA"] = "dns; mx1." + OUR["domain"]
        b1["Arrival-Date"] = fmt_date(p.date - 30, "eu", 0)
        b2["Final-Recipient"] = "rfc822; " + bad
        b2["Action"] = "failed"
        b2["Status"] = "5.1.1"
        b2["Diagnostic-Code"] = "smtp; 550 5.1.1 User unknown"
        ds.set_payload([b1, b2])
        hd = new_msg()
        hd["Content-Type"] = "text/rfc822-headers"
        hd["Content-Description"] = "Undelivered Message Headers"
        hd.set_payload("From: %s <%s>\nTo: %s\nSubject: %s\nDate: %s\nMessage-ID: <%s@%s>\n"
                       % (self.w.user.native, self.w.user.addr, bad, self.subject(rng, p.subject.split(": ", 1)[-1]),
                          fmt_date(p.date - 30, "eu", 0), uuid_str(rng), OUR["domain"]))
        return multipart("report", [t1, ds, hd], boundary_for(rng, "other", 1), "report-type=delivery-status")

    def forwarded_part(self, rng, p):
        f = p.fwd
        inner = new_msg()
        inner["From"] = self.display(rng, f["sender"])
        inner["To"] = self.display(rng, f["to"])
        inner["Subject"] = self.subject(rng, f["subject"])
        inner["Date"] = fmt_date(f["date"], f["sender"].tz, 1)
        inner["Message-ID"] = f["msgid"]
        inner["MIME-Version"] = "1.0"
        body = text_part(rng, self.text(f["text"]), "plain", "utf-8")
        for k, v in body.items():
            inner[k] = v
        inner.set_payload(body._payload)
        wrap = new_msg()
        fname = f["subject"][:40] + ".eml"
        wrap["Content-Type"] = 'message/rfc822; name="%s"' % (fname if is_ascii(fname) else "forwarded.eml")
        wrap["Content-Disposition"] = 'attachment; filename="%s"' % (fname if is_ascii(fname) else "forwarded.eml")
        wrap.set_payload([inner])
        return wrap

    # ---------------------------------------------------------------- one message
    def render(self, p):
        rng = random.Random(p.rseed)
        w = self.w
        m = new_msg()
        sender = p.sender
        if p.frm_addr is not None:
            frm_domain = p.frm_addr[1].split("@")[1]
        else:
            frm_domain = sender.addr.split("@")[1]
        via_list = p.kind == "list" and not p.listinfo.get("direct")
        if not p.outgoing:
            if via_list:
                rp = "%s-bounces@%s" % (p.listinfo["name"].lower(), p.listinfo["domain"])
            elif p.kind == "bounce":
                rp = ""
            elif p.kind in ("news", "notify"):
                rp = "bounce-%s@%s" % (hexid(rng, 12), frm_domain)
            elif p.frm_addr is not None:
                rp = p.frm_addr[1]
            else:
                rp = sender.addr
            if rng.random() < 0.9:
                m["Return-Path"] = "<%s>" % rp
            self.received(rng, m, p, p.listinfo["domain"] if via_list else frm_domain)
        date_style = (1 if p.mailer in ("outlook", "gmail") else 0) if rng.random() < 0.9 else rng.choice((2, 3, 4))
        date = fmt_date(p.date, p.tz if p.tz in TZ_STD else "eu", date_style)
        mailer = p.mailer if p.mailer in ("outlook", "gmail", "apple", "thunderbird") else "other"

        # Originator and recipients.
        if p.frm_addr is not None:
            frm = self.format_addr(rng, p.frm_addr[0], p.frm_addr[1])
        elif sender.kind == "user":
            frm = self.format_addr(rng, sender.native, sender.addr if rng.random() < 0.9 else sender.alt_addrs[0])
        else:
            frm = self.display(rng, sender)
        to = self.addr_list(rng, p.to, p.group)
        cc = self.addr_list(rng, p.cc) if p.cc else None
        subj = self.subject(rng, p.subject)
        if p.kind == "news" and rng.random() < 0.3:
            to = "undisclosed-recipients:;"

        # Header order follows the mailer.
        if mailer == "outlook":
            m["From"] = frm
            m["To"] = to
            if cc:
                m["CC"] = cc
            m["Subject"] = subj
            m["Thread-Topic"] = subj
            m["Thread-Index"] = b64id(rng, 22 + 5 * min(p.n, 6))
            m["Date"] = date
            m["Message-ID"] = p.msgid
            if p.parent is not None:
                m["References"] = " ".join(p.refs) if p.refs and rng.random() < 0.95 else p.parent.msgid
                m["In-Reply-To"] = p.parent.msgid
            m["Accept-Language"] = "de-DE, en-US"
            m["Content-Language"] = rng.choice(["de-DE", "en-US", "en-GB"])
            m["X-MS-Has-Attach"] = "yes" if p.attach else ""
            m["X-MS-TNEF-Correlator"] = ""
            if not p.outgoing:
                m["X-MS-Exchange-Organization-AuthAs"] = "Anonymous"
                m["X-MS-Exchange-CrossTenant-Network-Message-Id"] = uuid_str(rng)
                m["X-MS-Exchange-CrossTenant-id"] = uuid_str(rng)
                m["X-Microsoft-Antispam"] = "BCL:0;ARA:13230040|366016|376014|1800799024|38070700018;"
                m["X-Forefront-Antispam-Report"] = ("CIP:255.255.255.255;CTRY:;LANG:en;SCL:1;SRV:;IPV:NLI;SFV:NSPM;"
                                                    "H:%s;PTR:;CAT:NONE;SFS:(13230040)(366016)(1800799024);DIR:OUT;SFP:"
                                                    "1101;" % hexid(rng, 12).upper())
        else:
            m["Message-ID"] = p.msgid
            m["Date"] = date
            if mailer == "thunderbird":
                m["MIME-Version"] = "1.0"
                m["User-Agent"] = "Mozilla Thunderbird"
                m["Content-Language"] = "en-US"
            if p.parent is not None:
                m["In-Reply-To"] = p.parent.msgid
                m["References"] = " ".join(p.refs) if p.refs else p.parent.msgid
            m["From"] = frm
            m["To"] = to
            if cc:
                m["Cc"] = cc
            m["Subject"] = subj
        if p.bcc:
            m["Bcc"] = self.addr_list(rng, p.bcc)
        if sender is not None and sender.sender is not None and not p.outgoing:
            m["Sender"] = self.display(rng, sender.sender)
        if p.kind in ("sales", "cold") and not p.outgoing and rng.random() < 0.02:
            m["Reply-To"] = self.display(rng, rng.choice(sender.org.people) if sender.org else sender)

        # Kind-specific headers.
        if p.kind == "news":
            brand, addr, dom = p.news
            m["List-Id"] = "%s <%s.list-id.%s>" % (brand if is_ascii(brand) else "news", hexid(rng, 10), dom)
            m["Precedence"] = "bulk"
            m["X-Campaign-Id"] = hexid(rng, 10)
            m["Feedback-ID"] = "%d:%d:%s:%s" % (rng.randrange(10**6), rng.randrange(10**4), "campaign", dom)
        elif p.kind == "notify":
            m["Auto-Submitted"] = "auto-generated"
            if rng.random() < 0.5:
                m["Precedence"] = "bulk"
            if rng.random() < 0.4:
                m["Reply-To"] = "support@" + p.service[1]
            m["X-Auto-Response-Suppress"] = "All"
        elif p.kind == "ooo":
            m["Auto-Submitted"] = "auto-replied"
            m["X-Autoreply"] = "yes"
            m["In-Reply-To"] = p.parent.msgid
        elif p.kind == "bounce":
            m["Auto-Submitted"] = "auto-replied"
        elif p.kind == "list":
            L = p.listinfo
            if not L.get("direct"):
                m["List-Id"] = "%s <%s.%s>" % (L["name"], L["name"].lower(), L["domain"])
                m["List-Post"] = "<mailto:%s>" % L["addr"]
                m["List-Help"] = "<mailto:%s-request@%s?subject=help>" % (L["name"].lower(), L["domain"])
                m["List-Subscribe"] = "<https://%s/mailman/listinfo/%s>" % (L["domain"], L["name"].lower())
                m["List-Archive"] = "<https://%s/pipermail/%s/>" % (L["domain"], L["name"].lower())
                m["Precedence"] = "list"
                m["Errors-To"] = "%s-bounces@%s" % (L["name"].lower(), L["domain"])
                m["Sender"] = '"%s" <%s-bounces@%s>' % (L["name"], L["name"].lower(), L["domain"])
        if p.kind == "news":
            lu = "<https://%s/unsubscribe/%s>" % (frm_domain, hexid(rng, 32))
            if rng.random() < 0.7:
                lu = "<mailto:unsubscribe-%s@%s>, %s" % (hexid(rng, 16), frm_domain, lu)
            m["List-Unsubscribe"] = lu
        elif via_list:
            L = p.listinfo
            m["List-Unsubscribe"] = "<https://%s/mailman/options/%s>, <mailto:%s-request@%s?subject=unsubscribe>" % (
                L["domain"], L["name"].lower(), L["name"].lower(), L["domain"])
            if p.kind == "news" and rng.random() < 0.7:
                m["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        if mailer == "apple":
            m["X-Mailer"] = "Apple Mail (2.%d.%d.%d)" % (rng.choice([3731, 3774, 3826]), rng.randrange(100, 700),
                                                         rng.randrange(1, 20))
        elif mailer == "other" and p.kind in ("sales", "cold", "fwd", "role", "ooo", "internal"):
            m["X-Mailer"] = rng.choice(["Zimbra 9.0.0_GA_4583 (ZimbraWebClient - FF120)", "Open-Xchange Mailer "
                                        "v7.10.6-Rev45", "Microsoft Outlook 16.0", "Roundcube Webmail/1.6.5",
                                        "iPhone Mail (21F90)", "Lotus Notes Release 9.0.1FP10"])

        # Body.
        if p.kind == "news":
            body, _ = self.newsletter_body(rng, p)
        elif p.kind == "notify":
            body = self.notify_body(rng, p)
        elif p.kind == "bounce":
            body = self.bounce_body(rng, p)
        else:
            text = self.text(p.text)
            if p.kind == "list" and not p.listinfo.get("direct") and rng.random() < 0.8:
                text += ("\n_______________________________________________\n%s mailing list\n%s\n"
                         "https://%s/mailman/listinfo/%s\n" % (p.listinfo["name"], p.listinfo["addr"],
                                                                p.listinfo["domain"], p.listinfo["name"].lower()))
            body = self.body_parts(rng, p, text, mailer)
        if p.cal is not None:
            body = self.calendar_parts(rng, p, body)
        extra = []
        for a in p.attach:
            if a[0] == "vcard":
                extra.append(self.vcard_part(rng, sender if sender is not None else w.user))
            else:
                extra.append(attachment_part(rng, a[1], a[2]))
        if p.fwd is not None:
            extra.append(self.forwarded_part(rng, p))
        if mailer == "outlook" and extra and rng.random() < 0.02:
            t = new_msg()
            t["Content-Type"] = 'application/ms-tnef; name="winmail.dat"'
            t["Content-Disposition"] = 'attachment; filename="winmail.dat"'
            t["Content-Transfer-Encoding"] = "base64"
            t.set_payload(blob_b64(rng, "tnef", rng.randrange(4000, 40000)))
            extra.append(t)
        if extra:
            body = multipart("mixed", [body] + extra, boundary_for(rng, mailer, 0))
        org = sender.org if sender is not None else None
        if org is not None and org.signs and p.kind in ("sales", "role", "internal"):
            sig = new_msg()
            sig["Content-Type"] = 'application/pkcs7-signature; name="smime.p7s"'
            sig["Content-Transfer-Encoding"] = "base64"
            sig["Content-Disposition"] = 'attachment; filename="smime.p7s"'
            sig["Content-Description"] = "S/MIME Cryptographic Signature"
            sig.set_payload(blob_b64(rng, "pdf", rng.randrange(3500, 6000)))
            body = multipart("signed", [body, sig], boundary_for(rng, mailer, 9),
                             'protocol="application/pkcs7-signature"; micalg=sha-256')
        if "MIME-Version" not in m:
            m["MIME-Version"] = "1.0" if mailer != "apple" else "1.0 (Mac OS X Mail 16.0 \\(3731.500.231\\))"
        for k, v in body.items():
            m[k] = v
        m.set_payload(body._payload)
        if p.defect:
            self.apply_defect(rng, m, p)
        return self.to_bytes(m)

    def apply_defect(self, rng, m, p):
        d = p.defect
        if d == "no-msgid":
            del m["Message-ID"]
        elif d == "no-date":
            del m["Date"]
        elif d == "bad-date":
            m.replace_header("Date", rng.choice(["Montag, 32. Juni 2024 25:61", "yesterday", "Thu, 1 Jan 1970 "
                                                 "00:00:00 +0000", "Fri, 13 Sep 2024 10:11:12 +2500"]))
        elif d == "bad-encword":
            bad = rng.choice(["=?utf-8?B?SGFsbG8gV2VsdA?= broken padding", "=?utf-8?Q?M=FCller_GmbH?= invalid utf-8",
                              "=?x-unknown?Q?Gr=FC=DFe?= unknown charset", "=?utf-8?B?w7w missing end",
                              "=?UTF-8?Q?Angebot_f=C3=BCr?=Sie (no space)", "=?iso-8859-1?q?=E4=F6=FC?="
                              "=?utf-8?q?=E2=82=AC?= mixed"])
            if rng.random() < 0.5:
                m.replace_header("Subject", bad)
            elif "From" in m:
                addr = eutils.parseaddr(m["From"])[1] or "someone@example.net"
                m.replace_header("From", '"=?utf-8?Q?J=C3=BCrgen_M=C3=BCller?=" <%s>' % addr
                                 if rng.random() < 0.5 else "=?utf-8?B?SsO8cmdlbiBNw7xs?=bGVy <%s>" % addr)
        elif d == "bad-addr":
            which = "To" if rng.random() < 0.5 else "From"
            val = rng.choice(['Jürgen Müller <juergen.mueller@>', "john.smith at acme.com", "<>",
                              '"unterminated <a.person@example.org>', "@@@", "Name <a@b@c.d>",
                              "a.person@[300.1.1.1", "Müller, Jürgen <mueller@müller-gmbh.de>"])
            if which in m:
                m.replace_header(which, surrogate(val.encode("utf-8")))
        elif d == "8bit-header":
            raw = p.subject.encode("utf-8" if rng.random() < 0.6 else "iso-8859-1", "replace")
            if is_ascii(p.subject):
                raw = ("Grüße – " + p.subject).encode("utf-8")
            m.replace_header("Subject", surrogate(raw))
            if p.sender is not None and "From" in m and not is_ascii(p.sender.native):
                m.replace_header("From", surrogate(("%s <%s>" % (p.sender.native, p.sender.addr)).encode("utf-8")))

    def to_bytes(self, m):
        buf = BytesIO()
        _Generator(buf, mangle_from_=False, policy=POLICY).flatten(m)
        data = buf.getvalue()
        return data if data.endswith(b"\n") else data + b"\n"


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------

SUBFOLDERS_ALWAYS = [".Sent", ".Archive", ".Trash", ".Newsletters", ".Notifications", ".Prospects"]


def mbox_from_line(p, plan_sender_addr):
    t = time.gmtime(p.date)
    return "From %s %s %s %2d %02d:%02d:%02d %d\n" % (plan_sender_addr or "MAILER-DAEMON", DAYS[t.tm_wday],
                                                    MON3[t.tm_mon - 1], t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
                                                    t.tm_year)


def mboxrd_quote(data):
    """mboxrd: '>'-quote every line that matches ^>*From ."""
    if b"From " not in data:
        return data
    lines = data.split(b"\n")
    for i, l in enumerate(lines):
        if l.startswith(b"From ") or (l.startswith(b">") and l.lstrip(b">").startswith(b"From ")):
            lines[i] = b">" + l
    return b"\n".join(lines)


_R = None


def _render_one(i):
    return _R.render(_R.plans[i])


def render_all(renderer, plans, jobs):
    """Yields (index, bytes) in order. Uses worker processes (fork) when jobs > 1."""
    if jobs <= 1:
        for i, p in enumerate(plans):
            yield i, renderer.render(p)
        return
    import multiprocessing as mp
    global _R
    _R = renderer
    ctx = mp.get_context("fork")
    with ctx.Pool(jobs) as pool:
        for i, data in enumerate(pool.imap(_render_one, range(len(plans)), chunksize=64)):
            yield i, data


def write_config(path, world, out):
    u = world.user
    lines = ["# salesgetter.conf for the generated user (tests/gen/gen-maildir.py)", "[identity]",
             "name=%s" % u.native, "addresses=%s;" % ";".join([u.addr] + u.alt_addrs),
             "internal-domains=%s;%s;" % (OUR["domain"], OUR["sub"]), "role=account-manager", ""]
    if out:
        lines += ["[maildir]", "paths=%s;" % os.path.abspath(out), ""]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))


def main(argv=None):
    ap = argparse.ArgumentParser(description="Generate a deterministic, realistic Maildir for a B2B sales user.")
    ap.add_argument("--out", help="Maildir to create (must not exist or be empty)")
    ap.add_argument("--count", type=int, required=True, help="number of messages (files) in total")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--config", help="also write a salesgetter.conf for the generated user")
    ap.add_argument("--mbox", help="also (or, without --out, only) write the messages as one mbox (mboxrd)")
    ap.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1),
                    help="render in this many processes (output is the same for any value)")
    ap.add_argument("--stats", action="store_true", help="print size statistics to stderr")
    a = ap.parse_args(argv)
    if not a.out and not a.mbox:
        ap.error("need --out DIR and/or --mbox FILE")
    if a.count < 1:
        ap.error("--count must be at least 1")
    if a.out and os.path.isdir(a.out) and any(os.scandir(a.out)):
        ap.error("%s exists and is not empty" % a.out)

    t0 = time.monotonic()
    rng = random.Random(a.seed)
    world = build_world(rng, a.count)
    plans = Planner(rng, world, a.count, a.seed).plan_all()
    # File order: by delivery time; ties broken by generation order.
    order = sorted(range(len(plans)), key=lambda i: (plans[i].date, i))
    plans = [plans[i] for i in order]
    init_pool(a.seed)
    renderer = Renderer(world, plans, a.seed)
    t_plan = time.monotonic() - t0

    folders = set()
    if a.out:
        for f in ["", *SUBFOLDERS_ALWAYS] + sorted({p.folder for p in plans}):
            if f in folders:
                continue
            folders.add(f)
            d = os.path.join(a.out, f) if f else a.out
            for sub in ("cur", "new", "tmp"):
                os.makedirs(os.path.join(d, sub), exist_ok=True)
            if f:
                open(os.path.join(d, "maildirfolder"), "wb").close()
    mbox = open(a.mbox, "wb") if a.mbox else None
    sizes = []
    total = 0
    for i, data in render_all(renderer, plans, a.jobs):
        p = plans[i]
        total += len(data)
        if a.stats:
            sizes.append(len(data))
        if a.out:
            d = os.path.join(a.out, p.folder) if p.folder else a.out
            epoch = p.date + 5 + (p.rseed % 97)
            name = "%d.%d_%d.gen" % (epoch, i + 1, a.seed)
            path = os.path.join(d, "new", name) if p.new else os.path.join(d, "cur", name + ":2,S")
            with open(path, "wb") as f:
                f.write(data)
            os.utime(path, (epoch, epoch))
        if mbox:
            sender_addr = p.frm_addr[1] if p.frm_addr else (p.sender.addr if p.sender else None)
            mbox.write(mbox_from_line(p, sender_addr).encode("ascii"))
            mbox.write(mboxrd_quote(data))
            mbox.write(b"\n")
    if mbox:
        mbox.close()
    if a.config:
        write_config(a.config, world, a.out)
    dt = time.monotonic() - t0
    print("gen-maildir: %d messages, %.1f MB, %d organisations, %d folders, %.1f s (plan %.1f s)"
          % (len(plans), total / 1e6, len(world.orgs), len(folders), dt, t_plan), file=sys.stderr)
    if a.stats and sizes:
        s = sorted(sizes)
        q = lambda f: s[min(len(s) - 1, int(f * len(s)))]
        print("sizes: min %d, p10 %d, median %d, mean %d, p90 %d, p99 %d, max %d" % (
            s[0], q(0.1), q(0.5), total // len(s), q(0.9), q(0.99), s[-1]), file=sys.stderr)
        kinds = {}
        for p in plans:
            kinds[p.kind] = kinds.get(p.kind, 0) + 1
        print("kinds: " + ", ".join("%s %d" % kv for kv in sorted(kinds.items())), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
