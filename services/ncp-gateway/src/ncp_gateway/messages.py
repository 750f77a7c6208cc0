"""All user-facing text, English and German: one table per language, joined into a typed catalog
(key -> language -> text, str.format fields).

Missing keys or languages fail the catalog test; templates call `_("key", **fields)`.
"""

from collections.abc import Callable, Iterable
from typing import Final

from .messages_a11y import A11Y_DE, A11Y_EN

LANGUAGES: Final = ("en", "de")
LANGUAGE_NAMES: Final = {"en": "English", "de": "Deutsch"}

# One table per language, in the same key order; CATALOG joins them (key -> language -> text).
EN: Final[dict[str, str]] = {
    **A11Y_EN,
    "app.title": "Transfer your study results",
    "nav.language": "Language",
    "nav.skip": "Skip to main content",
    "session.time_left": "Time left to finish: {minutes} min {seconds} s. After that the transfer is cancelled.",
    "button.cancel": "Cancel",
    "button.send": "Send",
    "button.preview": "Continue to preview",
    "button.back": "Back to selection",
    "button.apply_filters": "Apply filters",
    "button.reset_filters": "Show all",
    "button.select_all": "Select all",
    "button.select_none": "Select none",
    "button.continue": "Continue",
    "cancel.hint": "Cancel returns you to {host} without sending anything.",
    "select.heading": "Choose the results to send",
    "select.intro": "Results from {count} institution(s) were found. Choosing an entry also sends everything it "
        "contains.",
    "select.fixed": "The requesting service asks for all your results; you cannot pick single ones.",
    "select.filters": "Filter the list",
    "select.filter.institution": "Institution",
    "select.filter.type": "Type",
    "select.filter.level": "Level (EQF)",
    "select.filter.date_from": "Completed from",
    "select.filter.date_to": "Completed until",
    "select.filter.any": "Any",
    "select.filtered": "A filter is active: hidden entries keep their choice.",
    "select.none_chosen": "Choose at least one result, or cancel.",
    "select.nothing_shown": "No result matches the filters.",
    "select.choose": "Send “{title}”",
    "select.not_passed": "not passed: cannot be sent",
    "select.warning": "Results from {institution} could not be fetched right now and are missing.",
    "select.totals": "Chosen: {count} entries, {credits} ECTS credits.",
    "select.institution_credits": "{credits} ECTS credits in total",
    "col.title": "Title",
    "col.code": "Code",
    "col.type": "Type",
    "col.level": "EQF",
    "col.date": "Date",
    "col.status": "Status",
    "col.grade": "Grade",
    "col.credits": "ECTS",
    "status.passed": "passed",
    "status.failed": "failed",
    "status.in-progress": "in progress",
    "type.Degree Programme": "Degree programme",
    "type.Module": "Module",
    "type.Course": "Course",
    "type.Class": "Class",
    "preview.heading": "Check what will be sent",
    "preview.learner": "Learner",
    "preview.bday": "Date of birth",
    "preview.totals": "{count} entries from {institutions} institution(s), {credits} ECTS credits.",
    "preview.attachment": "A PDF transcript of the same results is attached.",
    "preview.xml_link": "Show the exact document (XML) before signing",
    "consent.heading": "Consent",
    "consent.receiver": "Your results will be sent to {host}.",
    "consent.receiver_named": "Your results will be sent to {host}, operated for {name}.",
    "consent.outside_eea": "The receiver may be outside the EU/EEA, where EU data protection law may not apply.",
    "consent.checkbox": "I agree that the results shown above are sent to {host}.",
    "consent.required": "Please confirm your consent before sending.",
    "handoff.heading": "Returning to {host}",
    "handoff.text": "You are being sent back. If nothing happens, press Continue.",
    "error.heading": "This request cannot be processed",
    "error.reference": "Reference: {error_id}",
    "error.back": "Please go back to the service you came from and start again.",
    "error.no_session": "There is no active transfer in this browser (it may have finished or expired).",
    "error.csrf": "The form was not accepted (security token missing or wrong). Reload the page and try again.",
    "error.bad_request": "The request is not valid: {detail}",
    "error.continue": "Continue where you were",
    "error.which_transfer": "Several transfers are open in this browser. Please continue on the page of the one you "
        "mean.",
    "error.too_many_here": "{count} transfers are already open in this browser. Please finish or cancel one of them "
        "first.",
    "error.busy": "The service is busy right now. Please try again in a few minutes.",
    "error.login_not_completed": "The login was not completed, or its answer does not belong to a login started in "
        "this browser. You can try again or cancel.",
    "error.retry_login": "Try to log in again",
    "error.bad_form": "The form could not be read. Please use the buttons on the page.",
    "error.too_large": "The request is too large.",
    # returnMessage texts for the client system, in the student's language (the client shows them to the same
    # student). Fixed texts only: nothing a request carried is ever part of them.
    "return.cancel": "The user cancelled the transfer.",
    "return.unexpected": "An unexpected error occurred at the national contact point (reference {error_id}).",
    "error.unexpected": "An unexpected error occurred. Please go back to the service you came from and start again.",
    "return.login_cancel": "The user cancelled the login.",
    "return.no_results": "No results were found for this learner.",
    "return.session_expired": "The transfer session expired before the user finished.",
    "return.login_rejected": "Login failed: the identity provider refused the login request.",
    "return.login_not_completed": "Login failed: the identity provider could not complete the login.",
    "return.login_provider_failed": "Login failed: the identity provider reported an internal error.",
    "return.login_provider_unavailable": "Login failed: the identity provider is temporarily unavailable; try again "
        "later.",
    "return.login_provider_error": "Login failed at the identity provider.",
    "return.login_failed": "Login failed: the identity provider's answer was not accepted ({reason}).",
    "return.login_unavailable": "Login is not possible right now: the identity provider did not answer ({reason}); "
        "try again later.",
    "return.results_unavailable": "The student information systems could not be reached; try again later.",
    "return.results_refused": "The results could not be fetched ({reason}).",
    "return.document_invalid": "The results could not be converted into a valid ELMO document ({reason}).",
    "return.signing_failed": "The results could not be signed right now ({reason}); try again later.",
    "error.wrong_step": "This step is not available now. Use the buttons on the page.",
    # /my-results: the student at the node directly, downloading their own results.
    "my_results.heading": "Your study results",
    "my_results.intro": "Log in to see the study results this node can fetch for you and download them as signed "
        "files: the ELMO XML document and the PDF transcript. Nothing is sent anywhere.",
    "my_results.login": "Log in",
    "my_results.downloads": "Download",
    "my_results.download_xml": "Signed ELMO XML",
    "my_results.download_pdf": "Signed PDF transcript",
    "my_results.download_hint": "Both files are signed by this node, so whoever you give them to can check that they "
        "are genuine.",
    "my_results.logout": "Log out",
    "my_results.ended": "You are logged out.",
    "my_results.again": "Back to the start",
    "my_results.bad_format": "Choose XML or PDF.",
    "my_results.failed": "The file could not be prepared right now; please try again later.",
}

DE: Final[dict[str, str]] = {
    **A11Y_DE,
    "app.title": "Studienleistungen übertragen",
    "nav.language": "Sprache",
    "nav.skip": "Zum Hauptinhalt springen",
    "session.time_left": "Verbleibende Zeit: {minutes} Min. {seconds} s. Danach wird die Übertragung abgebrochen.",
    "button.cancel": "Abbrechen",
    "button.send": "Senden",
    "button.preview": "Weiter zur Vorschau",
    "button.back": "Zurück zur Auswahl",
    "button.apply_filters": "Filter anwenden",
    "button.reset_filters": "Alle anzeigen",
    "button.select_all": "Alle auswählen",
    "button.select_none": "Keine auswählen",
    "button.continue": "Weiter",
    "cancel.hint": "„Abbrechen“ bringt Sie ohne Übertragung zurück zu {host}.",
    "select.heading": "Wählen Sie die zu sendenden Leistungen",
    "select.intro": "Es wurden Leistungen von {count} Einrichtung(en) gefunden. Ein gewählter Eintrag sendet alles "
        "mit, was er enthält.",
    "select.fixed": "Der anfragende Dienst verlangt alle Ihre Leistungen; eine Einzelauswahl ist nicht möglich.",
    "select.filters": "Liste filtern",
    "select.filter.institution": "Einrichtung",
    "select.filter.type": "Art",
    "select.filter.level": "Niveau (EQR)",
    "select.filter.date_from": "Abgeschlossen ab",
    "select.filter.date_to": "Abgeschlossen bis",
    "select.filter.any": "Alle",
    "select.filtered": "Ein Filter ist aktiv: ausgeblendete Einträge behalten ihre Auswahl.",
    "select.none_chosen": "Wählen Sie mindestens eine Leistung oder brechen Sie ab.",
    "select.nothing_shown": "Keine Leistung passt zu den Filtern.",
    "select.choose": "„{title}“ senden",
    "select.not_passed": "nicht bestanden: nicht übertragbar",
    "select.warning": "Leistungen von {institution} konnten gerade nicht abgerufen werden und fehlen.",
    "select.totals": "Gewählt: {count} Einträge, {credits} ECTS-Punkte.",
    "select.institution_credits": "insgesamt {credits} ECTS-Punkte",
    "col.title": "Titel",
    "col.code": "Kennung",
    "col.type": "Art",
    "col.level": "EQR",
    "col.date": "Datum",
    "col.status": "Status",
    "col.grade": "Note",
    "col.credits": "ECTS",
    "status.passed": "bestanden",
    "status.failed": "nicht bestanden",
    "status.in-progress": "laufend",
    "type.Degree Programme": "Studiengang",
    "type.Module": "Modul",
    "type.Course": "Kurs",
    "type.Class": "Lehrveranstaltung",
    "preview.heading": "Prüfen Sie, was gesendet wird",
    "preview.learner": "Person",
    "preview.bday": "Geburtsdatum",
    "preview.totals": "{count} Einträge von {institutions} Einrichtung(en), {credits} ECTS-Punkte.",
    "preview.attachment": "Ein PDF-Auszug derselben Leistungen wird beigefügt.",
    "preview.xml_link": "Das genaue Dokument (XML) vor der Signatur anzeigen",
    "consent.heading": "Einwilligung",
    "consent.receiver": "Ihre Leistungen werden an {host} gesendet.",
    "consent.receiver_named": "Ihre Leistungen werden an {host} gesendet, betrieben für {name}.",
    "consent.outside_eea": "Der Empfänger befindet sich möglicherweise außerhalb der EU/des EWR, wo das "
        "EU-Datenschutzrecht eventuell nicht gilt.",
    "consent.checkbox": "Ich bin einverstanden, dass die oben gezeigten Leistungen an {host} gesendet werden.",
    "consent.required": "Bitte bestätigen Sie Ihre Einwilligung vor dem Senden.",
    "handoff.heading": "Zurück zu {host}",
    "handoff.text": "Sie werden zurückgeleitet. Falls nichts passiert, drücken Sie „Weiter“.",
    "error.heading": "Diese Anfrage kann nicht bearbeitet werden",
    "error.reference": "Referenz: {error_id}",
    "error.back": "Bitte kehren Sie zu dem Dienst zurück, von dem Sie kamen, und beginnen Sie erneut.",
    "error.no_session": "In diesem Browser gibt es keine aktive Übertragung (sie ist beendet oder abgelaufen).",
    "error.csrf": "Das Formular wurde nicht angenommen (Sicherheitsmerkmal fehlt oder ist falsch). Laden Sie die "
        "Seite neu und versuchen Sie es erneut.",
    "error.bad_request": "Die Anfrage ist ungültig: {detail}",
    "error.continue": "Dort weitermachen, wo Sie waren",
    "error.which_transfer": "In diesem Browser sind mehrere Übertragungen offen. Bitte fahren Sie auf der Seite der "
        "gewünschten Übertragung fort.",
    "error.too_many_here": "In diesem Browser sind bereits {count} Übertragungen offen. Bitte schließen Sie zuerst "
        "eine ab oder brechen Sie sie ab.",
    "error.busy": "Der Dienst ist gerade ausgelastet. Bitte versuchen Sie es in einigen Minuten erneut.",
    "error.login_not_completed": "Die Anmeldung wurde nicht abgeschlossen, oder ihre Antwort gehört zu keiner in "
        "diesem Browser begonnenen Anmeldung. Sie können es erneut versuchen oder abbrechen.",
    "error.retry_login": "Erneut anmelden",
    "error.bad_form": "Das Formular konnte nicht gelesen werden. Bitte nutzen Sie die Schaltflächen der Seite.",
    "error.too_large": "Die Anfrage ist zu groß.",
    "return.cancel": "Die Übertragung wurde abgebrochen.",
    "return.unexpected": "Beim nationalen Kontaktpunkt ist ein unerwarteter Fehler aufgetreten (Referenz {error_id}).",
    "error.unexpected": "Ein unerwarteter Fehler ist aufgetreten. Bitte kehren Sie zu dem Dienst zurück, von dem Sie "
        "kamen, und beginnen Sie erneut.",
    "return.login_cancel": "Die Anmeldung wurde abgebrochen.",
    "return.no_results": "Für diese Person wurden keine Leistungen gefunden.",
    "return.session_expired": "Die Übertragung ist abgelaufen, bevor sie abgeschlossen wurde.",
    "return.login_rejected": "Anmeldung fehlgeschlagen: Der Identitätsanbieter hat die Anmeldeanfrage abgelehnt.",
    "return.login_not_completed": "Anmeldung fehlgeschlagen: Der Identitätsanbieter konnte die Anmeldung nicht "
        "abschließen.",
    "return.login_provider_failed": "Anmeldung fehlgeschlagen: Der Identitätsanbieter meldete einen internen Fehler.",
    "return.login_provider_unavailable": "Anmeldung fehlgeschlagen: Der Identitätsanbieter ist vorübergehend nicht "
        "erreichbar; bitte später erneut versuchen.",
    "return.login_provider_error": "Die Anmeldung beim Identitätsanbieter ist fehlgeschlagen.",
    "return.login_failed": "Anmeldung fehlgeschlagen: Die Antwort des Identitätsanbieters wurde nicht angenommen "
        "({reason}).",
    "return.login_unavailable": "Anmeldung derzeit nicht möglich: Der Identitätsanbieter hat nicht geantwortet "
        "({reason}); bitte später erneut versuchen.",
    "return.results_unavailable": "Die Studierendenverwaltungssysteme waren nicht erreichbar; bitte später erneut "
        "versuchen.",
    "return.results_refused": "Die Leistungen konnten nicht abgerufen werden ({reason}).",
    "return.document_invalid": "Die Leistungen konnten nicht in ein gültiges ELMO-Dokument umgewandelt werden "
        "({reason}).",
    "return.signing_failed": "Die Leistungen konnten gerade nicht signiert werden ({reason}); bitte später erneut "
        "versuchen.",
    "error.wrong_step": "Dieser Schritt ist jetzt nicht verfügbar. Bitte nutzen Sie die Schaltflächen der Seite.",
    "my_results.heading": "Ihre Studienleistungen",
    "my_results.intro": "Melden Sie sich an, um die Studienleistungen zu sehen, die dieser Knoten für Sie abrufen "
        "kann, und sie als signierte Dateien herunterzuladen: das ELMO-XML-Dokument und das PDF-Transkript. Es wird "
        "nichts übertragen.",
    "my_results.login": "Anmelden",
    "my_results.downloads": "Herunterladen",
    "my_results.download_xml": "Signiertes ELMO-XML",
    "my_results.download_pdf": "Signiertes PDF-Transkript",
    "my_results.download_hint": "Beide Dateien sind von diesem Knoten signiert; wer sie erhält, kann ihre Echtheit "
        "prüfen.",
    "my_results.logout": "Abmelden",
    "my_results.ended": "Sie sind abgemeldet.",
    "my_results.again": "Zurück zum Anfang",
    "my_results.bad_format": "Bitte XML oder PDF wählen.",
    "my_results.failed": "Die Datei konnte gerade nicht erstellt werden; bitte versuchen Sie es später erneut.",
}

_TABLES: Final = {"en": EN, "de": DE}
CATALOG: Final[dict[str, dict[str, str]]] = {
    key: {lang: table[key] for lang, table in _TABLES.items() if key in table} for key in {**EN, **DE}
}


def negotiate(accept_language: str | None, default: str = "en") -> str:
    """The best supported language for an Accept-Language header (q-values honoured)."""
    best, best_q = default, -1.0
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        lang = tag.strip().lower().split("-")[0]
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if lang in LANGUAGES and q > 0 and (q > best_q or (q == best_q and position == 0)):
            best, best_q = lang, q
    return best


def translator(lang: str) -> Callable[..., str]:
    language = lang if lang in LANGUAGES else "en"

    def translate(key: str, **fields: object) -> str:
        text = CATALOG[key][language]
        return text.format(**fields) if fields else text

    return translate


def missing_translations(keys: Iterable[str] = CATALOG) -> list[str]:
    return [f"{k}:{lang}" for k in keys for lang in LANGUAGES if not CATALOG.get(k, {}).get(lang)]
