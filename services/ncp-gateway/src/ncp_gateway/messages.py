"""All user-facing text, English and German: a typed catalog (key -> language -> text, str.format fields).

Missing keys or languages fail the catalog test; templates call `_("key", **fields)`.
"""

from collections.abc import Callable, Iterable
from typing import Final

from .messages_a11y import A11Y_CATALOG

LANGUAGES: Final = ("en", "de")
LANGUAGE_NAMES: Final = {"en": "English", "de": "Deutsch"}

CATALOG: Final[dict[str, dict[str, str]]] = {
    **A11Y_CATALOG,
    "app.title": {"en": "Transfer your study results", "de": "Studienleistungen übertragen"},
    "nav.language": {"en": "Language", "de": "Sprache"},
    "nav.skip": {"en": "Skip to main content", "de": "Zum Hauptinhalt springen"},
    "session.time_left": {
        "en": "Time left to finish: {minutes} min {seconds} s. After that the transfer is cancelled.",
        "de": "Verbleibende Zeit: {minutes} Min. {seconds} s. Danach wird die Übertragung abgebrochen.",
    },
    "button.cancel": {"en": "Cancel", "de": "Abbrechen"},
    "button.send": {"en": "Send", "de": "Senden"},
    "button.preview": {"en": "Continue to preview", "de": "Weiter zur Vorschau"},
    "button.back": {"en": "Back to selection", "de": "Zurück zur Auswahl"},
    "button.apply_filters": {"en": "Apply filters", "de": "Filter anwenden"},
    "button.reset_filters": {"en": "Show all", "de": "Alle anzeigen"},
    "button.select_all": {"en": "Select all", "de": "Alle auswählen"},
    "button.select_none": {"en": "Select none", "de": "Keine auswählen"},
    "button.continue": {"en": "Continue", "de": "Weiter"},
    "cancel.hint": {
        "en": "Cancel returns you to {host} without sending anything.",
        "de": "„Abbrechen“ bringt Sie ohne Übertragung zurück zu {host}.",
    },
    "select.heading": {"en": "Choose the results to send", "de": "Wählen Sie die zu sendenden Leistungen"},
    "select.intro": {
        "en": "Results from {count} institution(s) were found. Choosing an entry also sends everything it contains.",
        "de": "Es wurden Leistungen von {count} Einrichtung(en) gefunden. Ein gewählter Eintrag "
              "sendet alles mit, was er enthält.",
    },
    "select.fixed": {
        "en": "The requesting service asks for all your results; you cannot pick single ones.",
        "de": "Der anfragende Dienst verlangt alle Ihre Leistungen; eine Einzelauswahl ist nicht möglich.",
    },
    "select.filters": {"en": "Filter the list", "de": "Liste filtern"},
    "select.filter.institution": {"en": "Institution", "de": "Einrichtung"},
    "select.filter.type": {"en": "Type", "de": "Art"},
    "select.filter.level": {"en": "Level (EQF)", "de": "Niveau (EQR)"},
    "select.filter.date_from": {"en": "Completed from", "de": "Abgeschlossen ab"},
    "select.filter.date_to": {"en": "Completed until", "de": "Abgeschlossen bis"},
    "select.filter.any": {"en": "Any", "de": "Alle"},
    "select.filtered": {
        "en": "A filter is active: hidden entries keep their choice.",
        "de": "Ein Filter ist aktiv: ausgeblendete Einträge behalten ihre Auswahl.",
    },
    "select.none_chosen": {
        "en": "Choose at least one result, or cancel.",
        "de": "Wählen Sie mindestens eine Leistung oder brechen Sie ab.",
    },
    "select.nothing_shown": {"en": "No result matches the filters.", "de": "Keine Leistung passt zu den Filtern."},
    "select.choose": {"en": "Send “{title}”", "de": "„{title}“ senden"},
    "select.not_passed": {"en": "not passed: cannot be sent", "de": "nicht bestanden: nicht übertragbar"},
    "select.warning": {
        "en": "Results from {institution} could not be fetched right now and are missing.",
        "de": "Leistungen von {institution} konnten gerade nicht abgerufen werden und fehlen.",
    },
    "select.totals": {
        "en": "Chosen: {count} entries, {credits} ECTS credits.",
        "de": "Gewählt: {count} Einträge, {credits} ECTS-Punkte.",
    },
    "select.institution_credits": {"en": "{credits} ECTS credits in total", "de": "insgesamt {credits} ECTS-Punkte"},
    "col.title": {"en": "Title", "de": "Titel"},
    "col.code": {"en": "Code", "de": "Kennung"},
    "col.type": {"en": "Type", "de": "Art"},
    "col.level": {"en": "EQF", "de": "EQR"},
    "col.date": {"en": "Date", "de": "Datum"},
    "col.status": {"en": "Status", "de": "Status"},
    "col.grade": {"en": "Grade", "de": "Note"},
    "col.credits": {"en": "ECTS", "de": "ECTS"},
    "status.passed": {"en": "passed", "de": "bestanden"},
    "status.failed": {"en": "failed", "de": "nicht bestanden"},
    "status.in-progress": {"en": "in progress", "de": "laufend"},
    "type.Degree Programme": {"en": "Degree programme", "de": "Studiengang"},
    "type.Module": {"en": "Module", "de": "Modul"},
    "type.Course": {"en": "Course", "de": "Kurs"},
    "type.Class": {"en": "Class", "de": "Lehrveranstaltung"},
    "preview.heading": {"en": "Check what will be sent", "de": "Prüfen Sie, was gesendet wird"},
    "preview.learner": {"en": "Learner", "de": "Person"},
    "preview.bday": {"en": "Date of birth", "de": "Geburtsdatum"},
    "preview.totals": {
        "en": "{count} entries from {institutions} institution(s), {credits} ECTS credits.",
        "de": "{count} Einträge von {institutions} Einrichtung(en), {credits} ECTS-Punkte.",
    },
    "preview.attachment": {
        "en": "A PDF transcript of the same results is attached.",
        "de": "Ein PDF-Auszug derselben Leistungen wird beigefügt.",
    },
    "preview.xml_link": {
        "en": "Show the exact document (XML) before signing",
        "de": "Das genaue Dokument (XML) vor der Signatur anzeigen",
    },
    "consent.heading": {"en": "Consent", "de": "Einwilligung"},
    "consent.receiver": {
        "en": "Your results will be sent to {host}.",
        "de": "Ihre Leistungen werden an {host} gesendet.",
    },
    "consent.receiver_named": {
        "en": "Your results will be sent to {host}, operated for {name}.",
        "de": "Ihre Leistungen werden an {host} gesendet, betrieben für {name}.",
    },
    "consent.outside_eea": {
        "en": "The receiver may be outside the EU/EEA, where EU data protection law may not apply.",
        "de": "Der Empfänger befindet sich möglicherweise außerhalb der EU/des EWR, wo das "
              "EU-Datenschutzrecht eventuell nicht gilt.",
    },
    "consent.checkbox": {
        "en": "I agree that the results shown above are sent to {host}.",
        "de": "Ich bin einverstanden, dass die oben gezeigten Leistungen an {host} gesendet werden.",
    },
    "consent.required": {
        "en": "Please confirm your consent before sending.",
        "de": "Bitte bestätigen Sie Ihre Einwilligung vor dem Senden.",
    },
    "handoff.heading": {"en": "Returning to {host}", "de": "Zurück zu {host}"},
    "handoff.text": {
        "en": "You are being sent back. If nothing happens, press Continue.",
        "de": "Sie werden zurückgeleitet. Falls nichts passiert, drücken Sie „Weiter“.",
    },
    "error.heading": {"en": "This request cannot be processed", "de": "Diese Anfrage kann nicht bearbeitet werden"},
    "error.reference": {"en": "Reference: {error_id}", "de": "Referenz: {error_id}"},
    "error.back": {
        "en": "Please go back to the service you came from and start again.",
        "de": "Bitte kehren Sie zu dem Dienst zurück, von dem Sie kamen, und beginnen Sie erneut.",
    },
    "error.no_session": {
        "en": "There is no active transfer in this browser (it may have finished or expired).",
        "de": "In diesem Browser gibt es keine aktive Übertragung (sie ist beendet oder abgelaufen).",
    },
    "error.csrf": {
        "en": "The form was not accepted (security token missing or wrong). Reload the page and try again.",
        "de": "Das Formular wurde nicht angenommen (Sicherheitsmerkmal fehlt oder ist falsch). "
              "Laden Sie die Seite neu und versuchen Sie es erneut.",
    },
    "error.bad_request": {"en": "The request is not valid: {detail}", "de": "Die Anfrage ist ungültig: {detail}"},
    "error.continue": {"en": "Continue where you were", "de": "Dort weitermachen, wo Sie waren"},
    "error.which_transfer": {
        "en": "Several transfers are open in this browser. Please continue on the page of the one you mean.",
        "de": "In diesem Browser sind mehrere Übertragungen offen. Bitte fahren Sie auf der Seite der "
              "gewünschten Übertragung fort.",
    },
    "error.too_many_here": {
        "en": "{count} transfers are already open in this browser. Please finish or cancel one of them first.",
        "de": "In diesem Browser sind bereits {count} Übertragungen offen. Bitte schließen Sie zuerst eine ab "
              "oder brechen Sie sie ab.",
    },
    "error.busy": {
        "en": "The service is busy right now. Please try again in a few minutes.",
        "de": "Der Dienst ist gerade ausgelastet. Bitte versuchen Sie es in einigen Minuten erneut.",
    },
    "error.login_not_completed": {
        "en": "The login was not completed, or its answer does not belong to a login started in this browser. "
              "You can try again or cancel.",
        "de": "Die Anmeldung wurde nicht abgeschlossen, oder ihre Antwort gehört zu keiner in diesem Browser "
              "begonnenen Anmeldung. Sie können es erneut versuchen oder abbrechen.",
    },
    "error.retry_login": {"en": "Try to log in again", "de": "Erneut anmelden"},
    "error.bad_form": {
        "en": "The form could not be read. Please use the buttons on the page.",
        "de": "Das Formular konnte nicht gelesen werden. Bitte nutzen Sie die Schaltflächen der Seite.",
    },
    "error.too_large": {
        "en": "The request is too large.",
        "de": "Die Anfrage ist zu groß.",
    },
    # returnMessage texts for the client system, in the student's language (the client shows them to the same
    # student). Fixed texts only: nothing a request carried is ever part of them.
    "return.cancel": {"en": "The user cancelled the transfer.", "de": "Die Übertragung wurde abgebrochen."},
    "return.unexpected": {
        "en": "An unexpected error occurred at the national contact point (reference {error_id}).",
        "de": "Beim nationalen Kontaktpunkt ist ein unerwarteter Fehler aufgetreten (Referenz {error_id}).",
    },
    "error.unexpected": {
        "en": "An unexpected error occurred. Please go back to the service you came from and start again.",
        "de": "Ein unerwarteter Fehler ist aufgetreten. Bitte kehren Sie zu dem Dienst zurück, von dem Sie "
              "kamen, und beginnen Sie erneut.",
    },
    "return.login_cancel": {"en": "The user cancelled the login.", "de": "Die Anmeldung wurde abgebrochen."},
    "return.no_results": {
        "en": "No results were found for this learner.",
        "de": "Für diese Person wurden keine Leistungen gefunden.",
    },
    "return.session_expired": {
        "en": "The transfer session expired before the user finished.",
        "de": "Die Übertragung ist abgelaufen, bevor sie abgeschlossen wurde.",
    },
    "return.login_rejected": {
        "en": "Login failed: the identity provider refused the login request.",
        "de": "Anmeldung fehlgeschlagen: Der Identitätsanbieter hat die Anmeldeanfrage abgelehnt.",
    },
    "return.login_not_completed": {
        "en": "Login failed: the identity provider could not complete the login.",
        "de": "Anmeldung fehlgeschlagen: Der Identitätsanbieter konnte die Anmeldung nicht abschließen.",
    },
    "return.login_provider_failed": {
        "en": "Login failed: the identity provider reported an internal error.",
        "de": "Anmeldung fehlgeschlagen: Der Identitätsanbieter meldete einen internen Fehler.",
    },
    "return.login_provider_unavailable": {
        "en": "Login failed: the identity provider is temporarily unavailable; try again later.",
        "de": "Anmeldung fehlgeschlagen: Der Identitätsanbieter ist vorübergehend nicht erreichbar; "
              "bitte später erneut versuchen.",
    },
    "return.login_provider_error": {
        "en": "Login failed at the identity provider.",
        "de": "Die Anmeldung beim Identitätsanbieter ist fehlgeschlagen.",
    },
    "return.login_failed": {
        "en": "Login failed: the identity provider's answer was not accepted ({reason}).",
        "de": "Anmeldung fehlgeschlagen: Die Antwort des Identitätsanbieters wurde nicht angenommen ({reason}).",
    },
    "return.login_unavailable": {
        "en": "Login is not possible right now: the identity provider did not answer ({reason}); try again later.",
        "de": "Anmeldung derzeit nicht möglich: Der Identitätsanbieter hat nicht geantwortet ({reason}); "
              "bitte später erneut versuchen.",
    },
    "return.results_unavailable": {
        "en": "The student information systems could not be reached; try again later.",
        "de": "Die Studierendenverwaltungssysteme waren nicht erreichbar; bitte später erneut versuchen.",
    },
    "return.results_refused": {
        "en": "The results could not be fetched ({reason}).",
        "de": "Die Leistungen konnten nicht abgerufen werden ({reason}).",
    },
    "return.document_invalid": {
        "en": "The results could not be converted into a valid ELMO document ({reason}).",
        "de": "Die Leistungen konnten nicht in ein gültiges ELMO-Dokument umgewandelt werden ({reason}).",
    },
    "return.signing_failed": {
        "en": "The results could not be signed right now ({reason}); try again later.",
        "de": "Die Leistungen konnten gerade nicht signiert werden ({reason}); bitte später erneut versuchen.",
    },
    "error.wrong_step": {
        "en": "This step is not available now. Use the buttons on the page.",
        "de": "Dieser Schritt ist jetzt nicht verfügbar. Bitte nutzen Sie die Schaltflächen der Seite.",
    },
    # /my-results: the student at the node directly, downloading their own results.
    "my_results.heading": {"en": "Your study results", "de": "Ihre Studienleistungen"},
    "my_results.intro": {
        "en": "Log in to see the study results this node can fetch for you and download them as signed files: "
              "the ELMO XML document and the PDF transcript. Nothing is sent anywhere.",
        "de": "Melden Sie sich an, um die Studienleistungen zu sehen, die dieser Knoten für Sie abrufen kann, und "
              "sie als signierte Dateien herunterzuladen: das ELMO-XML-Dokument und das PDF-Transkript. "
              "Es wird nichts übertragen.",
    },
    "my_results.login": {"en": "Log in", "de": "Anmelden"},
    "my_results.downloads": {"en": "Download", "de": "Herunterladen"},
    "my_results.download_xml": {"en": "Signed ELMO XML", "de": "Signiertes ELMO-XML"},
    "my_results.download_pdf": {"en": "Signed PDF transcript", "de": "Signiertes PDF-Transkript"},
    "my_results.download_hint": {
        "en": "Both files are signed by this node, so whoever you give them to can check that they are genuine.",
        "de": "Beide Dateien sind von diesem Knoten signiert; wer sie erhält, kann ihre Echtheit prüfen.",
    },
    "my_results.logout": {"en": "Log out", "de": "Abmelden"},
    "my_results.ended": {"en": "You are logged out.", "de": "Sie sind abgemeldet."},
    "my_results.again": {"en": "Back to the start", "de": "Zurück zum Anfang"},
    "my_results.bad_format": {"en": "Choose XML or PDF.", "de": "Bitte XML oder PDF wählen."},
    "my_results.failed": {
        "en": "The file could not be prepared right now; please try again later.",
        "de": "Die Datei konnte gerade nicht erstellt werden; bitte versuchen Sie es später erneut.",
    },
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
