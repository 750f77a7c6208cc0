"""Texts of the session-time warning and the accessibility statement (English and German), merged into the
catalog in messages.py. The statement follows the EU model (Implementing Decision (EU) 2018/1523)."""

from typing import Final

A11Y_CATALOG: Final[dict[str, dict[str, str]]] = {
    "session.extend": {"en": "Extend the time", "de": "Zeit verlängern"},
    "session.close": {"en": "Close", "de": "Schließen"},
    "session.warning_heading": {"en": "Your transfer will end soon", "de": "Ihre Übertragung endet bald"},
    "session.warning_text": {
        "en": "Time left: {minutes} min {seconds} s. Extend the time to keep your choices.",
        "de": "Verbleibende Zeit: {minutes} Min. {seconds} s. Verlängern Sie die Zeit, um Ihre Auswahl "
              "zu behalten.",
    },
    "session.extended": {
        "en": "Time extended. Time left: {minutes} min {seconds} s.",
        "de": "Zeit verlängert. Verbleibende Zeit: {minutes} Min. {seconds} s.",
    },
    "session.expired": {
        "en": "The time is up: the transfer has ended. The next step returns you to the service you came from.",
        "de": "Die Zeit ist abgelaufen: Die Übertragung ist beendet. Der nächste Schritt bringt Sie zurück zu "
              "dem Dienst, von dem Sie kamen.",
    },
    "session.extend_limit": {
        "en": "The time of this transfer cannot be extended any further. Please finish or cancel it.",
        "de": "Die Zeit dieser Übertragung kann nicht weiter verlängert werden. Bitte schließen Sie sie ab "
              "oder brechen Sie sie ab.",
    },
    "session.extend_failed": {
        "en": "The time could not be extended. Please try again.",
        "de": "Die Zeit konnte nicht verlängert werden. Bitte versuchen Sie es erneut.",
    },
    "footer.accessibility": {"en": "Accessibility statement", "de": "Erklärung zur Barrierefreiheit"},
    "a11y.heading": {"en": "Accessibility statement", "de": "Erklärung zur Barrierefreiheit"},
    "a11y.intro": {
        "en": "{organisation} is committed to making this service accessible, in accordance with Directive (EU) "
              "2016/2102 and the national law transposing it. This accessibility statement applies to {site}, "
              "the pages where students choose their study results and send them to another service (EMREX).",
        "de": "{organisation} ist bemüht, diesen Dienst im Einklang mit der Richtlinie (EU) 2016/2102 und dem "
              "nationalen Recht zu ihrer Umsetzung barrierefrei zugänglich zu machen. Diese Erklärung gilt "
              "für {site}, die Seiten, auf denen Studierende ihre Studienleistungen auswählen und an einen "
              "anderen Dienst senden (EMREX).",
    },
    "a11y.status_heading": {"en": "Compliance status", "de": "Stand der Vereinbarkeit mit den Anforderungen"},
    "a11y.status": {
        "en": "This service is partially compliant with EN 301 549 V3.2.1 and the Web Content Accessibility "
              "Guidelines (WCAG) 2.1, level AA, due to the non-compliance listed below.",
        "de": "Dieser Dienst ist wegen der unten aufgeführten Unvereinbarkeit teilweise mit EN 301 549 V3.2.1 und "
              "den Richtlinien für barrierefreie Webinhalte (WCAG) 2.1, Stufe AA, vereinbar.",
    },
    "a11y.content_heading": {"en": "Non-accessible content", "de": "Nicht barrierefreie Inhalte"},
    "a11y.noncompliance_heading": {
        "en": "Non-compliance with the accessibility regulations",
        "de": "Unvereinbarkeit mit den Barrierefreiheitsbestimmungen",
    },
    "a11y.pdf": {
        "en": "The PDF transcript attached to the results you send is not a tagged PDF, so screen readers may "
              "not read its tables in a meaningful order (WCAG 1.3.1, 1.3.2). The same results are shown as "
              "accessible tables on the preview page before you send them, and the receiving service gets them "
              "as structured data.",
        "de": "Der PDF-Auszug, der den gesendeten Leistungen beigefügt wird, ist kein getaggtes PDF; "
              "Screenreader lesen seine Tabellen daher möglicherweise nicht in sinnvoller Reihenfolge vor "
              "(WCAG 1.3.1, 1.3.2). Dieselben Leistungen zeigt die Vorschauseite vor dem Senden als "
              "barrierefreie Tabellen, und der empfangende Dienst erhält sie als strukturierte Daten.",
    },
    "a11y.burden_heading": {"en": "Disproportionate burden", "de": "Unverhältnismäßige Belastung"},
    "a11y.burden": {"en": "We do not claim a disproportionate burden.",
                    "de": "Wir berufen uns nicht auf eine unverhältnismäßige Belastung."},
    "a11y.scope_heading": {
        "en": "Content outside the scope of this statement",
        "de": "Inhalte außerhalb des Geltungsbereichs dieser Erklärung",
    },
    "a11y.scope": {
        "en": "The login page belongs to your identity provider, and the pages before and after the transfer "
              "belong to the service that sent you here; their operators answer for their accessibility.",
        "de": "Die Anmeldeseite gehört zu Ihrem Identitätsanbieter, die Seiten vor und nach der Übertragung "
              "gehören zu dem Dienst, der Sie hierher geschickt hat; für deren Barrierefreiheit sind ihre "
              "Betreiber verantwortlich.",
    },
    "a11y.preparation_heading": {"en": "Preparation of this statement", "de": "Erstellung dieser Erklärung"},
    "a11y.preparation": {
        "en": "This statement was prepared on {prepared}. It is based on a self-assessment: with each release "
              "every page of the transfer is checked automatically with axe-core against WCAG 2.1 levels A and "
              "AA in English and German, and the whole transfer is tested with the keyboard alone. The "
              "statement was last reviewed on {reviewed}.",
        "de": "Diese Erklärung wurde am {prepared} erstellt. Sie beruht auf einer Selbstbewertung: Mit jeder "
              "Version wird jede Seite der Übertragung automatisch mit axe-core gegen WCAG 2.1, Stufen A und "
              "AA, auf Englisch und Deutsch geprüft, und die ganze Übertragung wird allein mit der Tastatur "
              "getestet. Die Erklärung wurde zuletzt am {reviewed} überprüft.",
    },
    "a11y.feedback_heading": {"en": "Feedback and contact information", "de": "Feedback und Kontaktangaben"},
    "a11y.feedback": {
        "en": "If you notice an accessibility problem on these pages, or need their content in another format, "
              "please tell us:",
        "de": "Wenn Ihnen auf diesen Seiten eine Barriere auffällt oder Sie die Inhalte in einem anderen Format "
              "benötigen, teilen Sie es uns bitte mit:",
    },
    "a11y.email": {"en": "Email", "de": "E-Mail"},
    "a11y.contact_form": {"en": "Contact form", "de": "Kontaktformular"},
    "a11y.no_contact": {
        "en": "Please contact the service that sent you here; it will pass your message on to us.",
        "de": "Bitte wenden Sie sich an den Dienst, der Sie hierher geschickt hat; er leitet Ihre Nachricht an "
              "uns weiter.",
    },
    "a11y.enforcement_heading": {"en": "Enforcement procedure", "de": "Durchsetzungsverfahren"},
    "a11y.enforcement": {
        "en": "If you are not satisfied with our answer to your feedback, you can turn to the enforcement body "
              "named in the national law that transposes Directive (EU) 2016/2102.",
        "de": "Wenn Sie mit unserer Antwort auf Ihre Rückmeldung nicht zufrieden sind, können Sie sich an die "
              "Durchsetzungsstelle wenden, die das nationale Recht zur Umsetzung der Richtlinie (EU) 2016/2102 "
              "benennt.",
    },
    "a11y.enforcement_link": {"en": "The enforcement body", "de": "Zur Durchsetzungsstelle"},
}
