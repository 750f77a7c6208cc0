"""Texts of the session-time warning and the accessibility statement (one table per language), merged
into the catalog in messages.py. The statement follows the EU model (Implementing Decision (EU) 2018/1523)."""

from typing import Final

A11Y_EN: Final[dict[str, str]] = {
    "session.extend": "Extend the time",
    "session.close": "Close",
    "session.warning_heading": "Your transfer will end soon",
    "session.warning_text": "Time left: {minutes} min {seconds} s. Extend the time to keep your choices.",
    "session.extended": "Time extended. Time left: {minutes} min {seconds} s.",
    "session.expired": "The time is up: the transfer has ended. The next step returns you to the service you came "
        "from.",
    "session.extend_limit": "The time of this transfer cannot be extended any further. Please finish or cancel it.",
    "session.extend_failed": "The time could not be extended. Please try again.",
    "footer.accessibility": "Accessibility statement",
    "a11y.heading": "Accessibility statement",
    "a11y.intro": "{organisation} is committed to making this service accessible, in accordance with Directive (EU) "
        "2016/2102 and the national law transposing it. This accessibility statement applies to {site}, the pages "
        "where students choose their study results and send them to another service (EMREX).",
    "a11y.status_heading": "Compliance status",
    "a11y.status": "This service is partially compliant with EN 301 549 V3.2.1 and the Web Content Accessibility "
        "Guidelines (WCAG) 2.1, level AA, due to the non-compliance listed below.",
    "a11y.content_heading": "Non-accessible content",
    "a11y.noncompliance_heading": "Non-compliance with the accessibility regulations",
    "a11y.pdf": "The PDF transcript attached to the results you send is not a tagged PDF, so screen readers may not "
        "read its tables in a meaningful order (WCAG 1.3.1, 1.3.2). The same results are shown as accessible tables "
        "on the preview page before you send them, and the receiving service gets them as structured data.",
    "a11y.burden_heading": "Disproportionate burden",
    "a11y.burden": "We do not claim a disproportionate burden.",
    "a11y.scope_heading": "Content outside the scope of this statement",
    "a11y.scope": "The login page belongs to your identity provider, and the pages before and after the transfer "
        "belong to the service that sent you here; their operators answer for their accessibility.",
    "a11y.preparation_heading": "Preparation of this statement",
    "a11y.preparation": "This statement was prepared on {prepared}. It is based on a self-assessment: with each "
        "release every page of the transfer is checked automatically with axe-core against WCAG 2.1 levels A and AA "
        "in English and German, and the whole transfer is tested with the keyboard alone. The statement was last "
        "reviewed on {reviewed}.",
    "a11y.feedback_heading": "Feedback and contact information",
    "a11y.feedback": "If you notice an accessibility problem on these pages, or need their content in another format, "
        "please tell us:",
    "a11y.email": "Email",
    "a11y.contact_form": "Contact form",
    "a11y.no_contact": "Please contact the service that sent you here; it will pass your message on to us.",
    "a11y.enforcement_heading": "Enforcement procedure",
    "a11y.enforcement": "If you are not satisfied with our answer to your feedback, you can turn to the enforcement "
        "body named in the national law that transposes Directive (EU) 2016/2102.",
    "a11y.enforcement_link": "The enforcement body",
}

A11Y_DE: Final[dict[str, str]] = {
    "session.extend": "Zeit verlängern",
    "session.close": "Schließen",
    "session.warning_heading": "Ihre Übertragung endet bald",
    "session.warning_text": "Verbleibende Zeit: {minutes} Min. {seconds} s. Verlängern Sie die Zeit, um Ihre Auswahl "
        "zu behalten.",
    "session.extended": "Zeit verlängert. Verbleibende Zeit: {minutes} Min. {seconds} s.",
    "session.expired": "Die Zeit ist abgelaufen: Die Übertragung ist beendet. Der nächste Schritt bringt Sie zurück "
        "zu dem Dienst, von dem Sie kamen.",
    "session.extend_limit": "Die Zeit dieser Übertragung kann nicht weiter verlängert werden. Bitte schließen Sie sie "
        "ab oder brechen Sie sie ab.",
    "session.extend_failed": "Die Zeit konnte nicht verlängert werden. Bitte versuchen Sie es erneut.",
    "footer.accessibility": "Erklärung zur Barrierefreiheit",
    "a11y.heading": "Erklärung zur Barrierefreiheit",
    "a11y.intro": "{organisation} ist bemüht, diesen Dienst im Einklang mit der Richtlinie (EU) 2016/2102 und dem "
        "nationalen Recht zu ihrer Umsetzung barrierefrei zugänglich zu machen. Diese Erklärung gilt für {site}, die "
        "Seiten, auf denen Studierende ihre Studienleistungen auswählen und an einen anderen Dienst senden (EMREX).",
    "a11y.status_heading": "Stand der Vereinbarkeit mit den Anforderungen",
    "a11y.status": "Dieser Dienst ist wegen der unten aufgeführten Unvereinbarkeit teilweise mit EN 301 549 V3.2.1 "
        "und den Richtlinien für barrierefreie Webinhalte (WCAG) 2.1, Stufe AA, vereinbar.",
    "a11y.content_heading": "Nicht barrierefreie Inhalte",
    "a11y.noncompliance_heading": "Unvereinbarkeit mit den Barrierefreiheitsbestimmungen",
    "a11y.pdf": "Der PDF-Auszug, der den gesendeten Leistungen beigefügt wird, ist kein getaggtes PDF; Screenreader "
        "lesen seine Tabellen daher möglicherweise nicht in sinnvoller Reihenfolge vor (WCAG 1.3.1, 1.3.2). Dieselben "
        "Leistungen zeigt die Vorschauseite vor dem Senden als barrierefreie Tabellen, und der empfangende Dienst "
        "erhält sie als strukturierte Daten.",
    "a11y.burden_heading": "Unverhältnismäßige Belastung",
    "a11y.burden": "Wir berufen uns nicht auf eine unverhältnismäßige Belastung.",
    "a11y.scope_heading": "Inhalte außerhalb des Geltungsbereichs dieser Erklärung",
    "a11y.scope": "Die Anmeldeseite gehört zu Ihrem Identitätsanbieter, die Seiten vor und nach der Übertragung "
        "gehören zu dem Dienst, der Sie hierher geschickt hat; für deren Barrierefreiheit sind ihre Betreiber "
        "verantwortlich.",
    "a11y.preparation_heading": "Erstellung dieser Erklärung",
    "a11y.preparation": "Diese Erklärung wurde am {prepared} erstellt. Sie beruht auf einer Selbstbewertung: Mit "
        "jeder Version wird jede Seite der Übertragung automatisch mit axe-core gegen WCAG 2.1, Stufen A und AA, auf "
        "Englisch und Deutsch geprüft, und die ganze Übertragung wird allein mit der Tastatur getestet. Die Erklärung "
        "wurde zuletzt am {reviewed} überprüft.",
    "a11y.feedback_heading": "Feedback und Kontaktangaben",
    "a11y.feedback": "Wenn Ihnen auf diesen Seiten eine Barriere auffällt oder Sie die Inhalte in einem anderen "
        "Format benötigen, teilen Sie es uns bitte mit:",
    "a11y.email": "E-Mail",
    "a11y.contact_form": "Kontaktformular",
    "a11y.no_contact": "Bitte wenden Sie sich an den Dienst, der Sie hierher geschickt hat; er leitet Ihre Nachricht "
        "an uns weiter.",
    "a11y.enforcement_heading": "Durchsetzungsverfahren",
    "a11y.enforcement": "Wenn Sie mit unserer Antwort auf Ihre Rückmeldung nicht zufrieden sind, können Sie sich an "
        "die Durchsetzungsstelle wenden, die das nationale Recht zur Umsetzung der Richtlinie (EU) 2016/2102 benennt.",
    "a11y.enforcement_link": "Zur Durchsetzungsstelle",
}
