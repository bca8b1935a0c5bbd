"""English and Spanish text for the pages.

Two languages and a few hundred strings: a dictionary keeps every translation
next to its English original, where a translator can review the pair. (gettext
catalogs earn their keep with more languages; switching later is mechanical.)
"""

from __future__ import annotations

import re
from collections.abc import Callable

from starlette.requests import Request

from courtwatch.domain.reports import MOST_PHOTOS
from courtwatch.photos import MOST_BYTES as MOST_PHOTO_BYTES
from web.jurisdictions.text import TEXT as JURISDICTION_TEXT

LANGUAGES = ("en", "es")

TEXT: dict[str, tuple[str, str]] = {
    # key: (English, Spanish)
    "app.title": ("courtwatch", "courtwatch"),
    "app.tagline": (
        "Document immigration enforcement at courthouses. Anonymous: no account, "
        "no IP address, no device information is kept.",
        "Documente la actividad de inmigración en los tribunales. Anónimo: no se guarda "
        "cuenta, dirección IP ni información del dispositivo.",
    ),
    "nav.report": ("Report", "Reportar"),
    "nav.map": ("Live map", "Mapa en vivo"),
    "nav.summaries": ("Trends", "Tendencias"),
    "nav.other_language": ("Español", "English"),
    "kind.courthouse_arrest": ("Arrest at a courthouse", "Arresto en un tribunal"),
    "kind.sighting": ("Agents or vehicles seen", "Agentes o vehículos vistos"),
    "kind.call_in": ("Call-in appointment", "Cita por carta (call-in)"),
    "kind.watch_shift": ("Watch shift", "Turno de observación"),
    "form.intro": (
        "Fill in what you saw. Leave anything you do not know as 'Not known'. "
        "Names go only in the sealed section at the end.",
        "Complete lo que vio. Deje lo que no sepa como 'No se sabe'. Los nombres van solo "
        "en la sección sellada del final.",
    ),
    "field.courthouse_code": ("Courthouse", "Tribunal"),
    "field.courthouse_none": (
        "— Not at a listed courthouse (use the pin below) —",
        "— No es un tribunal de la lista (use el punto abajo) —",
    ),
    "field.pin": (
        "Or a place on the map (rounded to about 100 m)",
        "O un lugar en el mapa (redondeado a unos 100 m)",
    ),
    "field.lat": ("Latitude", "Latitud"),
    "field.lon": ("Longitude", "Longitud"),
    "field.observed_at": ("When", "Cuándo"),
    "field.observed_at.call_in": ("Appointment date and time", "Fecha y hora de la cita"),
    "field.observed_at.watch_shift": ("Shift started", "Inicio del turno"),
    "field.ended_at": (
        "Shift ended (leave empty if still watching)",
        "Fin del turno (vacío si sigue observando)",
    ),
    "field.place": ("Where in or around the courthouse", "Dónde en el tribunal o alrededor"),
    "field.agents_count": ("How many agents", "Cuántos agentes"),
    "field.vehicles_count": ("How many vehicles", "Cuántos vehículos"),
    "field.agency": ("Agency", "Agencia"),
    "field.plain_clothes": ("Plain clothes?", "¿Vestidos de civil?"),
    "field.identification_shown": (
        "Did agents show identification?",
        "¿Los agentes mostraron identificación?",
    ),
    "field.warrant": ("Warrant shown", "Orden mostrada"),
    "field.person_role": (
        "The arrested person was at court as",
        "La persona arrestada estaba en el tribunal como",
    ),
    "field.outcome": ("Outcome", "Resultado"),
    "field.taken_to": (
        "Taken to (kind of place, if known)",
        "Llevado a (tipo de lugar, si se sabe)",
    ),
    "field.attorney_present": ("Was an attorney present?", "¿Había un abogado presente?"),
    "field.letter_date": ("Date on the letter", "Fecha de la carta"),
    # The S-Comm pipeline (issue 14): a local police contact before ICE acted.
    "field.pipeline": (
        "Before this: contact with local police",
        "Antes de esto: contacto con la policía local",
    ),
    "field.pipeline_hint": (
        "An arrest or stop by local police can send fingerprints to ICE. Fill in what you know.",
        "Un arresto o una parada de la policía local puede enviar las huellas a ICE. "
        "Llene lo que sepa.",
    ),
    "field.police_contact": (
        "Was the person in contact with local police before (arrest, stop, booking)?",
        "¿La persona tuvo contacto antes con la policía local (arresto, parada, fichaje)?",
    ),
    "field.police_contact_date": (
        "Date of that police contact (date only)",
        "Fecha de ese contacto con la policía (solo la fecha)",
    ),
    "field.police_agency": ("Which kind of police", "Qué tipo de policía"),
    "field.police_outcome": ("What came of it", "En qué terminó"),
    "field.detainer_lodged": (
        "Was an ICE detainer (hold) lodged?",
        "¿ICE pidió una retención (detainer)?",
    ),
    "field.to_or_from_court": (
        "Was the person on the way to or from court?",
        "¿La persona iba o volvía del tribunal?",
    ),
    "field.warrant_hint": (
        "Only a warrant signed by a judge is judicial. An ICE form (I-200, I-205) is administrative.",
        "Solo una orden firmada por un juez es judicial. Un formulario de ICE (I-200, I-205) "
        "es administrativo.",
    ),
    "police_agency.city_police": ("City police", "Policía de la ciudad"),
    "police_agency.county_sheriff": ("County sheriff", "Alguacil del condado (sheriff)"),
    "police_agency.state_police": ("State police", "Policía estatal"),
    "police_agency.other": ("Other", "Otra"),
    "police_agency.unknown": ("Not known", "No se sabe"),
    "police_outcome.no_charge": ("No charge", "Sin cargos"),
    "police_outcome.violation": ("Violation", "Infracción"),
    "police_outcome.misdemeanour": ("Misdemeanour", "Delito menor"),
    "police_outcome.felony": ("Felony", "Delito grave"),
    "police_outcome.unknown": ("Not known", "No se sabe"),
    "field.office": ("ICE office", "Oficina de ICE"),
    "field.accompanied": ("Was the person accompanied?", "¿La persona iba acompañada?"),
    "field.client_key": ("Submission key", "Clave de envío"),
    "field.kind": ("Kind of report", "Tipo de reporte"),
    "form.submit": ("Send report", "Enviar reporte"),
    "form.errors": ("Please correct the marked fields.", "Corrija los campos marcados."),
    "place.courtroom": ("Courtroom", "Sala"),
    "place.hallway": ("Hallway", "Pasillo"),
    "place.entrance": ("Entrance", "Entrada"),
    "place.outside": ("Outside", "Afuera"),
    "place.unknown": ("Not known", "No se sabe"),
    "agency.ice_ero": ("ICE ERO", "ICE ERO"),
    "agency.hsi": ("HSI", "HSI"),
    "agency.cbp": ("CBP", "CBP"),
    "agency.unknown": ("Not known", "No se sabe"),
    "warrant.judicial": ("Judicial (signed by a judge)", "Judicial (firmada por un juez)"),
    "warrant.administrative": ("Administrative (ICE form)", "Administrativa (formulario de ICE)"),
    "warrant.none": ("None shown", "Ninguna"),
    "warrant.unknown": ("Not known", "No se sabe"),
    "role.defendant": ("Defendant", "Acusado/a"),
    "role.witness": ("Witness", "Testigo"),
    "role.survivor": ("Survivor or victim", "Sobreviviente o víctima"),
    "role.family_court_litigant": ("Family-court party", "Parte en tribunal de familia"),
    "role.family_member": ("Family member", "Familiar"),
    "role.other": ("Other", "Otro"),
    "role.unknown": ("Not known", "No se sabe"),
    "outcome.detained": ("Detained / taken away", "Detenido/a / llevado/a"),
    "outcome.released": ("Released", "Liberado/a"),
    "outcome.unknown": ("Not known", "No se sabe"),
    "outcome.pending": ("Appointment still ahead", "La cita aún no ocurre"),
    "outcome.told_to_return": ("Told to come back", "Le dijeron que regrese"),
    # Where an arrested person was taken: kinds of place, never a named one.
    "dispute_reason.not_immigration_agents": (
        "Not immigration agents",
        "No eran agentes de inmigración",
    ),
    "dispute_reason.not_found_on_scene": (
        "Nothing found on scene",
        "No se encontró nada en el lugar",
    ),
    "dispute_reason.wrong_place_or_time": ("Wrong place or time", "Lugar u hora equivocados"),
    "dispute_reason.duplicate": ("Duplicate of another report", "Duplicado de otro reporte"),
    "dispute_reason.unconfirmed_rumour": ("Unconfirmed rumour", "Rumor sin confirmar"),
    "dispute_reason.false_report": ("False report", "Reporte falso"),
    "dispute_reason.other": ("Other", "Otro"),
    "taken_to.ice_field_office": ("An ICE field office", "Una oficina de campo de ICE"),
    "taken_to.ice_processing_center": (
        "An ICE processing center",
        "Un centro de procesamiento de ICE",
    ),
    "taken_to.detention_facility": (
        "A jail or detention facility",
        "Una cárcel o centro de detención",
    ),
    "taken_to.police_station": ("A police station", "Una estación de policía"),
    "taken_to.hospital": ("A hospital", "Un hospital"),
    "taken_to.other": ("Somewhere else", "Otro lugar"),
    "taken_to.unknown": ("Not known", "No se sabe"),
    # ICE offices (courtwatch/data/ice_offices.csv); city names stay as ICE writes them.
    "office.ero_atlanta": ("Atlanta field office (ERO)", "Oficina de campo de Atlanta (ERO)"),
    "office.ero_baltimore": ("Baltimore field office (ERO)", "Oficina de campo de Baltimore (ERO)"),
    "office.ero_boston": ("Boston field office (ERO)", "Oficina de campo de Boston (ERO)"),
    "office.ero_buffalo": ("Buffalo field office (ERO)", "Oficina de campo de Buffalo (ERO)"),
    "office.ero_chicago": ("Chicago field office (ERO)", "Oficina de campo de Chicago (ERO)"),
    "office.ero_dallas": ("Dallas field office (ERO)", "Oficina de campo de Dallas (ERO)"),
    "office.ero_denver": ("Denver field office (ERO)", "Oficina de campo de Denver (ERO)"),
    "office.ero_detroit": ("Detroit field office (ERO)", "Oficina de campo de Detroit (ERO)"),
    "office.ero_el_paso": ("El Paso field office (ERO)", "Oficina de campo de El Paso (ERO)"),
    "office.ero_harlingen": ("Harlingen field office (ERO)", "Oficina de campo de Harlingen (ERO)"),
    "office.ero_houston": ("Houston field office (ERO)", "Oficina de campo de Houston (ERO)"),
    "office.ero_los_angeles": (
        "Los Angeles field office (ERO)",
        "Oficina de campo de Los Ángeles (ERO)",
    ),
    "office.ero_miami": ("Miami field office (ERO)", "Oficina de campo de Miami (ERO)"),
    "office.ero_new_orleans": (
        "New Orleans field office (ERO)",
        "Oficina de campo de Nueva Orleans (ERO)",
    ),
    "office.ero_new_york_city": (
        "New York City field office (ERO), 26 Federal Plaza",
        "Oficina de campo de Nueva York (ERO), 26 Federal Plaza",
    ),
    "office.ero_newark": ("Newark field office (ERO)", "Oficina de campo de Newark (ERO)"),
    "office.ero_philadelphia": (
        "Philadelphia field office (ERO)",
        "Oficina de campo de Filadelfia (ERO)",
    ),
    "office.ero_phoenix": ("Phoenix field office (ERO)", "Oficina de campo de Phoenix (ERO)"),
    "office.ero_salt_lake_city": (
        "Salt Lake City field office (ERO)",
        "Oficina de campo de Salt Lake City (ERO)",
    ),
    "office.ero_san_antonio": (
        "San Antonio field office (ERO)",
        "Oficina de campo de San Antonio (ERO)",
    ),
    "office.ero_san_diego": ("San Diego field office (ERO)", "Oficina de campo de San Diego (ERO)"),
    "office.ero_san_francisco": (
        "San Francisco field office (ERO)",
        "Oficina de campo de San Francisco (ERO)",
    ),
    "office.ero_seattle": ("Seattle field office (ERO)", "Oficina de campo de Seattle (ERO)"),
    "office.ero_st_paul": ("St. Paul field office (ERO)", "Oficina de campo de St. Paul (ERO)"),
    "office.ero_washington": (
        "Washington field office (ERO)",
        "Oficina de campo de Washington (ERO)",
    ),
    "office.check_in_nyc_201_varick": (
        "201 Varick Street check-in office, New York",
        "Oficina de reporte (check-in) de 201 Varick Street, Nueva York",
    ),
    "office.other": ("Another ICE office", "Otra oficina de ICE"),
    "office.unknown": ("Not known", "No se sabe"),
    "answer.yes": ("Yes", "Sí"),
    "answer.no": ("No", "No"),
    "answer.unknown": ("Not known", "No se sabe"),
    "status.unverified": ("Unverified", "Sin verificar"),
    # A team member confirmed it on scene (anonymous corroborations never give it).
    "status.corroborated": ("Corroborated", "Corroborado"),
    "status.verified": ("Verified", "Verificado"),
    "status.disputed": ("Disputed", "Disputado"),
    "status.amended_after_verdict": ("Changed since verified", "Modificado tras verificarse"),
    "report.saved": ("Report saved.", "Reporte guardado."),
    "report.permalink": ("Permanent link", "Enlace permanente"),
    "report.token": (
        "Your edit key. Keep it private: it is the only way to correct this report, "
        "and it is shown only now.",
        "Su clave de edición. Guárdela en privado: es la única forma de corregir este "
        "reporte y solo se muestra ahora.",
    ),
    "report.history": ("History (nothing is ever erased)", "Historial (nunca se borra nada)"),
    "report.status": ("Status", "Estado"),
    "report.amended_after_verdict": (
        "Its author changed this report after it was verified. The verification no longer "
        "applies until a verifier checks the report again.",
        "Su autor cambió este reporte después de que fuera verificado. La verificación ya no "
        "vale hasta que un verificador lo revise de nuevo.",
    ),
    "report.corroborations": (
        "People who said they saw it too (anonymous, not a verification)",
        "Personas que dijeron haberlo visto también (anónimo, no es una verificación)",
    ),
    "citation.title": ("Cite this record", "Cómo citar este registro"),
    "citation.permalink": ("Permanent link", "Enlace permanente"),
    "citation.log": ("Transparency log", "Registro de transparencia"),
    "citation.public_key": ("public key", "llave pública"),
    "citation.bundle": ("evidence bundle (.zip)", "paquete de evidencia (.zip)"),
    "citation.awaiting_first": (
        "This record is awaiting its first entry in the transparency log.",
        "Este registro espera su primera entrada en el registro de transparencia.",
    ),
    "citation.leaf": ("leaf", "hoja"),
    "citation.event_hash": ("event hash (SHA-256)", "hash del evento (SHA-256)"),
    "citation.checkpoint": ("checkpoint", "punto de control"),
    "citation.size": ("size", "tamaño"),
    "citation.root": ("root", "raíz"),
    "citation.published": ("published", "publicado"),
    "citation.awaiting_next": (
        "awaiting the next checkpoint",
        "espera el próximo punto de control",
    ),
    "citation.log_identity": (
        "the log's key and fingerprint",
        "llave y huella del registro",
    ),
    "citation.verify": ("check a bundle in your browser", "verificar un paquete en su navegador"),
    # /log: the log's identity (web/transparency/log_page.py)
    "log.title": ("The transparency log", "El registro de transparencia"),
    "log.intro": (
        "Every record of this site is written into a public, append-only log. Every few "
        "minutes the operator signs a checkpoint: how many records the log holds and a "
        "fingerprint of all of them. A record changed or removed afterwards no longer matches "
        "a signed checkpoint. The values below identify this log: compare them with the ones "
        "in an evidence bundle.",
        "Cada registro de este sitio se escribe en un registro público al que solo se puede "
        "añadir. Cada pocos minutos el operador firma un punto de control: cuántos registros "
        "contiene y una huella de todos ellos. Un registro cambiado o borrado después ya no "
        "coincide con un punto de control firmado. Los valores de abajo identifican este "
        "registro: compárelos con los de un paquete de evidencia.",
    ),
    "log.origin": ("Name of the log (origin)", "Nombre del registro (origen)"),
    "log.key": ("Public key", "Llave pública"),
    "log.key_text": ("as plain text", "como texto"),
    "log.fingerprint": ("Key fingerprint", "Huella de la llave"),
    "log.latest": ("Latest signed checkpoint", "Último punto de control firmado"),
    "log.note": (
        "The latest checkpoint as the operator signed it (a C2SP signed note):",
        "El último punto de control tal como lo firmó el operador (una nota firmada C2SP):",
    ),
    "log.no_key": (
        "No checkpoint has been signed yet, so there is no key to publish.",
        "Todavía no se ha firmado ningún punto de control: no hay llave que publicar.",
    ),
    "log.no_checkpoint": (
        "None yet: the first one is signed a few minutes after the first report.",
        "Ninguno todavía: el primero se firma unos minutos después del primer reporte.",
    ),
    "log.how_title": ("How to check an evidence bundle", "Cómo verificar un paquete de evidencia"),
    "log.how_1": (
        'Download the evidence bundle (.zip) from the report\'s page, under "Cite this record".',
        'Descargue el paquete de evidencia (.zip) desde la página del reporte, en "Cómo citar '
        'este registro".',
    ),
    "log.how_2": (
        "Unzip it and open verify.html in a browser (it works with no internet), or use",
        "Descomprímalo y abra verify.html en un navegador (funciona sin internet), o use",
    ),
    "log.how_3": (
        'Drop the .zip (or its files) on the page. It says "Verified" or names exactly what '
        "failed. Check that the fingerprint it shows is the one above, character for character.",
        'Suelte el .zip (o sus archivos) en la página. Dirá "Verificado" o qué falló '
        "exactamente. Compruebe que la huella que muestra es la de arriba, carácter por carácter.",
    ),
    "log.how_4": (
        "An expert can run the same checks on the command line:",
        "Un perito puede hacer las mismas comprobaciones en la línea de comandos:",
    ),
    # record.html in an evidence bundle (web/transparency/record.py)
    "record.title": ("Courtwatch record", "Registro de courtwatch"),
    "record.lede": (
        "The reports below, in words, as they stand in the courtwatch transparency log, "
        "with every change made to them. Times are on the courthouse's clock.",
        "Los reportes de abajo, en palabras, tal como constan en el registro de "
        "transparencia de courtwatch, con cada cambio que se les hizo. Las horas son las "
        "del reloj del tribunal.",
    ),
    "record.unknown_kind": ("Report", "Reporte"),
    "record.report_id": ("Report number", "Número de reporte"),
    "record.check_title": ("How to check this record", "Cómo verificar este registro"),
    "record.check_text": (
        "This page is a reading of events.jsonl, the file in the same folder that the "
        "proof covers. Open verify.html from this folder in a browser (no internet is "
        'needed) and drop the zip file, or these files, onto it: it says "Verified" '
        "only if every record is exactly as logged and none is missing. Then check that "
        "the key fingerprint it shows is the one below, and the one the operator "
        "publishes on its /log page, character for character.",
        "Esta página es una lectura de events.jsonl, el archivo de la misma carpeta que "
        "cubre la prueba. Abra verify.html de esta carpeta en un navegador (no se "
        "necesita internet) y suelte en él el archivo zip, o estos archivos: dirá "
        '"Verificado" solo si cada registro está exactamente como se registró y no '
        "falta ninguno. Después compruebe que la huella de la llave que muestra es la de "
        "abajo, y la que el operador publica en su página /log, carácter por carácter.",
    ),
    "record.published_at": ("Published at", "Publicada en"),
    # The browser verifier (/verify, verify.html in a bundle: web/transparency/verifier.py)
    "verifier.title": ("Check an evidence bundle", "Verificar un paquete de evidencia"),
    "verifier.intro": (
        "This page checks a courtwatch evidence bundle on your own computer. Nothing is "
        "sent anywhere: it works with no internet connection.",
        "Esta página verifica un paquete de evidencia de courtwatch en su propia "
        "computadora. No se envía nada: funciona sin conexión a internet.",
    ),
    "verifier.step_1": (
        "Drop the bundle (.zip), or the files unzipped from it, in the box below.",
        "Suelte el paquete (.zip), o los archivos descomprimidos, en el recuadro de abajo.",
    ),
    "verifier.step_2": (
        'Read the answer: "Verified" means every record is exactly as logged and none '
        "is missing. Otherwise the page names what failed.",
        'Lea la respuesta: "Verificado" significa que cada registro está exactamente '
        "como se registró y que no falta ninguno. Si no, la página dice qué falló.",
    ),
    "verifier.step_3": (
        "Compare the fingerprint shown with the one the operator publishes on its /log "
        "page, or paste the published key below.",
        "Compare la huella que se muestra con la que el operador publica en su página "
        "/log, o pegue abajo la llave publicada.",
    ),
    "verifier.drop": (
        "Drop the bundle here, or tap to choose it",
        "Suelte aquí el paquete, o toque para elegirlo",
    ),
    "verifier.key": ("Published key (optional)", "Llave publicada (opcional)"),
    "verifier.key_placeholder": ("name+keyid+base64 key", "nombre+id+llave en base64"),
    "verifier.key_hint": (
        "Without it, the bundle is checked with the key inside it: then compare the "
        "fingerprint yourself.",
        "Sin ella, el paquete se verifica con la llave que trae dentro: entonces compare "
        "usted la huella.",
    ),
    "verifier.origin": (
        "Published log name (optional)",
        "Nombre publicado del registro (opcional)",
    ),
    "verifier.witnesses": (
        "Witnesses' public keys, one a line (optional)",
        "Llaves públicas de los testigos, una por línea (opcional)",
    ),
    "verifier.quorum": (
        "How many of them must have cosigned (empty: all)",
        "Cuántos de ellos deben haber cofirmado (vacío: todos)",
    ),
    "verifier.witnesses_hint": (
        "A witness is another organisation that cosigns the log's checkpoints only if "
        "they continue the history it saw before: a checkpoint cosigned by witnesses you "
        "trust is the one history everyone sees.",
        "Un testigo es otra organización que cofirma los puntos de control del registro "
        "solo si continúan la historia que ya vio: un punto de control cofirmado por "
        "testigos de su confianza es la única historia que todos ven.",
    ),
    "verifier.kind_witnesses": (
        "Not enough of the witnesses you named cosigned the checkpoint.",
        "No suficientes de los testigos que indicó cofirmaron el punto de control.",
    ),
    "verifier.checking": ("Checking…", "Verificando…"),
    "verifier.verified": ("✓ Verified", "✓ Verificado"),
    "verifier.failed": ("✗ Not verified", "✗ No verificado"),
    "verifier.nothing": ("no file was given", "no se dio ningún archivo"),
    "verifier.too_big": (
        "too large to check in a browser; use courtwatch verify",
        "demasiado grande para un navegador; use courtwatch verify",
    ),
    "verifier.kind_edited": (
        "A record was changed after it was logged.",
        "Un registro fue modificado después de registrarse.",
    ),
    "verifier.kind_removed": (
        "Records are missing or were added twice: the bundle does not hold the whole history.",
        "Faltan registros o están repetidos: el paquete no contiene la historia completa.",
    ),
    "verifier.kind_proof": (
        "A proof does not match the signed checkpoint.",
        "Una prueba no coincide con el punto de control firmado.",
    ),
    "verifier.kind_key": (
        "The bundle is not signed with the published key.",
        "El paquete no está firmado con la llave publicada.",
    ),
    "verifier.kind_other_log": (
        "The checkpoint comes from another log.",
        "El punto de control es de otro registro.",
    ),
    "verifier.kind_refresh": (
        "The newer checkpoint this bundle was refreshed with does not continue its log.",
        "El punto de control más reciente con el que se actualizó el paquete no continúa "
        "su registro.",
    ),
    "verifier.kind_unreadable": (
        "The file is not a readable evidence bundle.",
        "El archivo no es un paquete de evidencia legible.",
    ),
    "verifier.kind_other": (
        "The bundle does not check out (details below).",
        "El paquete no se pudo verificar (detalles abajo).",
    ),
    "verifier.rules": (
        "The checks are those of courtwatch verify: SHA-256 leaf hashes (RFC 9162), "
        "inclusion and consistency proofs, the Ed25519 signature of the checkpoint "
        "(C2SP signed-note), and the signed list of each report's current version. "
        "Details of what failed are in English, as the command line prints them.",
        "Las comprobaciones son las de courtwatch verify: hashes SHA-256 de cada hoja "
        "(RFC 9162), pruebas de inclusión y de consistencia, la firma Ed25519 del punto "
        "de control (C2SP signed-note) y la lista firmada de la versión actual de cada "
        "reporte. El detalle de lo que falla está en inglés, como lo imprime la línea de "
        "comandos.",
    ),
    "report.event": ("What happened", "Qué pasó"),
    "report.recorded": ("Recorded at (UTC)", "Registrado (UTC)"),
    "report.recorded_local": ("Recorded at", "Registrado"),
    "report.zone": ("Times shown in", "Horas mostradas en"),
    # Sealed details (web/sealed, web/templates/sealed).
    "event.DetailsSealed": ("Sealed details attached", "Datos sellados adjuntos"),
    "event.PhotoSealed": ("Photo attached (sealed)", "Foto adjunta (sellada)"),
    "event.PhotoPublished": ("Photo published", "Foto publicada"),
    "event.Imported": (
        "Imported from a program's records",
        "Importado de los registros de un programa",
    ),
    "sealed.title": ("Sealed details", "Datos sellados"),
    "sealed.form_summary": (
        "Details for the legal team (sealed)",
        "Datos para el equipo legal (sellados)",
    ),
    "sealed.form_hint": (
        "Optional. Only the legal team can read these: they are locked before they are "
        "stored, never shown on the map or the report page, and every read is recorded. "
        "Names and other personal details go here and nowhere else.",
        "Opcional. Solo el equipo legal puede leerlos: se sellan antes de guardarse, nunca "
        "aparecen en el mapa ni en la página del reporte, y cada lectura queda registrada. "
        "Los nombres y otros datos personales van aquí y en ningún otro lugar.",
    ),
    "sealed.read_is_logged": (
        "Confidential. This read was recorded with your name, the report and the time; "
        "coordinators can see it.",
        "Confidencial. Esta lectura quedó registrada con su nombre, el reporte y la hora; "
        "los coordinadores pueden verla.",
    ),
    "sealed.back_to_report": ("Back to the public report", "Volver al reporte público"),
    "sealed.empty": ("No sealed details were given.", "No se dieron datos sellados."),
    "sealed.reads_title": ("Who read sealed details", "Quién leyó datos sellados"),
    "sealed.reads_intro": (
        "Every read, disclosure and redaction of sealed details, newest first. The people "
        "in the reports can be told who looked.",
        "Cada lectura, divulgación y borrado de datos sellados, del más reciente al más "
        "antiguo. Se puede decir a las personas de los reportes quién los miró.",
    ),
    "sealed.reads_none": ("No one has read sealed details yet.", "Nadie ha leído datos sellados."),
    "sealed.report": ("Report", "Reporte"),
    "redaction_reason.person_asked": (
        "The person asked (through a coordinator)",
        "La persona lo pidió (por medio de un coordinador)",
    ),
    "redaction_reason.author_asked": ("The author asked", "El autor lo pidió"),
    "redaction_reason.safety": ("Someone's safety", "La seguridad de alguien"),
    "redaction_reason.entered_in_error": ("Entered in error", "Ingresado por error"),
    "redaction_reason.no_longer_needed": ("No longer needed", "Ya no se necesita"),
    "sealed_action.read": ("read", "leyó"),
    "sealed_action.disclose": ("disclosed one field", "divulgó un dato"),
    "sealed_action.redact": ("redacted", "borró"),
    "sealed_field.notes": ("Notes", "Notas"),
    "sealed_field.person_name": ("Name of the person", "Nombre de la persona"),
    "sealed_field.a_number": ("A-number", "Número A (A-number)"),
    "sealed_field.country_of_birth": ("Country of birth", "País de nacimiento"),
    "sealed_field.date_of_birth": ("Date of birth", "Fecha de nacimiento"),
    "sealed_field.language": ("Language", "Idioma"),
    "sealed_field.contact": (
        "Who to contact (family, attorney)",
        "A quién contactar (familia, abogado)",
    ),
    "sealed_field.taken_to_detail": ("Where they were taken", "A dónde se la llevaron"),
    "event.Submitted": ("Submitted", "Enviado"),
    "event.Amended": ("Amended by its author", "Corregido por su autor"),
    "event.Corroborated": ("Corroborated", "Corroborado"),
    "event.Verified": ("Verified", "Verificado"),
    "event.Disputed": ("Disputed", "Disputado"),
    "event.OutcomeRecorded": ("Outcome recorded", "Resultado registrado"),
    "event.Ended": ("Shift ended", "Turno terminado"),
    "error.not_found": ("No report with this link.", "No hay reporte con este enlace."),
    "error.no_such_form": (
        "There is no such kind of report. Pick one on the home page.",
        "No existe ese tipo de reporte. Elija uno en la página de inicio.",
    ),
    "outbox.pending": (
        "Saved on this phone: {n} report(s) will be sent as soon as there is signal. "
        "Keep this page open or come back to it.",
        "Guardado en este teléfono: {n} reporte(s) se enviarán en cuanto haya señal. "
        "Mantenga esta página abierta o vuelva a ella.",
    ),
    "outbox.sent": ("Saved reports were sent.", "Los reportes guardados se enviaron."),
    "outbox.rejected": (
        "A report saved on this phone was not accepted. It is still kept here: "
        "correct it and send it again.",
        "Un reporte guardado en este teléfono no fue aceptado. Sigue guardado aquí: "
        "corríjalo y envíelo de nuevo.",
    ),
    "outbox.fix": ("Correct and send again", "Corregir y enviar de nuevo"),
    "outbox.sent_one": (
        "A report saved on this phone was sent.",
        "Se envió un reporte guardado en este teléfono.",
    ),
    "report.open": ("Open the report", "Abrir el reporte"),
    # The web app on the phone (issue 12).
    "nav.mine": ("My reports", "Mis reportes"),
    "mine.title": ("My reports (on this phone only)", "Mis reportes (solo en este teléfono)"),
    "mine.intro": (
        "Reports sent from this phone, with their edit keys. They are kept on this phone "
        "only: courtwatch does not know which reports are yours.",
        "Reportes enviados desde este teléfono, con sus claves de edición. Se guardan solo "
        "en este teléfono: courtwatch no sabe cuáles reportes son suyos.",
    ),
    "mine.empty": (
        "No reports sent from this phone yet.",
        "Todavía no se ha enviado ningún reporte desde este teléfono.",
    ),
    "mine.waiting": (
        "Waiting for signal on this phone: {n} report(s).",
        "Esperando señal en este teléfono: {n} reporte(s).",
    ),
    "mine.manage": ("Correct or add the outcome", "Corregir o añadir el resultado"),
    "mine.view": ("Public page", "Página pública"),
    "mine.sent_at": ("Sent", "Enviado"),
    "mine.no_js": (
        "This list needs JavaScript: it is read from this phone's own storage.",
        "Esta lista necesita JavaScript: se lee del almacenamiento de este teléfono.",
    ),
    "mine.wipe": ("Remove everything from this phone", "Borrar todo de este teléfono"),
    "mine.wipe_hint": (
        "Removes the list below, the edit keys, reports waiting for signal and the pages "
        "kept for use offline. Reports already sent stay on courtwatch.",
        "Borra la lista de abajo, las claves de edición, los reportes que esperan señal y "
        "las páginas guardadas para usar sin conexión. Los reportes ya enviados siguen en "
        "courtwatch.",
    ),
    "mine.wipe_confirm": (
        "{n} report(s) have not been sent yet and will be lost. Remove everything anyway?",
        "{n} reporte(s) todavía no se han enviado y se perderán. ¿Borrar todo de todos modos?",
    ),
    "mine.wipe_yes": ("Yes, remove everything", "Sí, borrar todo"),
    "mine.wiped": (
        "Everything courtwatch kept on this phone was removed.",
        "Se borró todo lo que courtwatch guardaba en este teléfono.",
    ),
    "mine.no_courthouse": ("No courthouse", "Sin tribunal"),
    "place.search": ("Search: name, city or code", "Buscar: nombre, ciudad o código"),
    "place.nearest": ("Nearest to me", "El más cercano a mí"),
    "place.nearest_hint": (
        "Your location stays on this phone: only the courthouse you choose is sent.",
        "Su ubicación se queda en este teléfono: solo se envía el tribunal que elija.",
    ),
    "place.last": ("Last used", "Último usado"),
    "place.no_match": ("No courthouse matches.", "Ningún tribunal coincide."),
    "place.locating": ("Finding where you are…", "Buscando dónde está…"),
    "place.located": ("Nearest courthouses:", "Tribunales más cercanos:"),
    "place.location_failed": (
        "Your location is not available. Search by name or city instead.",
        "Su ubicación no está disponible. Busque por nombre o ciudad.",
    ),
    "problem.required": ("Required.", "Obligatorio."),
    "problem.at_most": ("Must be {n} or less.", "Debe ser {n} o menos."),
    "problem.at_least": ("Must be {n} or more.", "Debe ser {n} o más."),
    "problem.number": ("Must be a number.", "Debe ser un número."),
    "problem.whole_number": ("Must be a whole number.", "Debe ser un número entero."),
    "problem.datetime": ("Must be a date and time.", "Debe ser una fecha y hora."),
    "problem.date": ("Must be a date.", "Debe ser una fecha."),
    "problem.future": ("Cannot be in the future.", "No puede ser en el futuro."),
    "problem.too_long": ("At most {n} characters.", "Como máximo {n} caracteres."),
    "problem.too_short": ("At least {n} characters.", "Al menos {n} caracteres."),
    "problem.choice": ("Choose one of the options.", "Elija una de las opciones."),
    "problem.unknown_courthouse": (
        "Not a courthouse in the list.",
        "No es un tribunal de la lista.",
    ),
    "problem.place_required": (
        "Pick a courthouse or drop a pin.",
        "Elija un tribunal o marque un punto en el mapa.",
    ),
    "problem.pin_pair": (
        "Give both latitude and longitude, or neither.",
        "Indique latitud y longitud, o ninguna.",
    ),
    "problem.unknown_field": ("Not a field of this form.", "No es un campo de este formulario."),
    "problem.control_characters": (
        "Remove the special (control) characters.",
        "Quite los caracteres especiales (de control).",
    ),
    "problem.range": ("Out of the possible range.", "Fuera del rango posible."),
    "problem.other": ("This value cannot be used.", "Este valor no se puede usar."),
    # Trend summaries (web/summaries.py)
    "summary.intro": (
        "Counts per day, week and month, with the change from the period before. A published "
        "summary never changes: a late report brings a new revision that links to the old one.",
        "Cifras por día, semana y mes, con el cambio respecto al período anterior. Un resumen "
        "publicado nunca cambia: un reporte tardío produce una revisión nueva enlazada a la anterior.",
    ),
    "summary.recent": ("Recent periods", "Períodos recientes"),
    "summary.published_list": ("Published summaries", "Resúmenes publicados"),
    "summary.none_published": ("Nothing published yet.", "Aún no se ha publicado nada."),
    "summary.title.day": ("Day", "Día"),
    "summary.title.week": ("Week", "Semana"),
    "summary.title.month": ("Month", "Mes"),
    "summary.end_excluded": ("end not included", "sin incluir el final"),
    "summary.published": ("Published summary", "Resumen publicado"),
    "summary.revision": ("revision", "revisión"),
    "summary.supersedes": ("replaces", "reemplaza"),
    "summary.provisional": (
        "Provisional: computed now, not published yet.",
        "Provisional: calculado ahora, aún no publicado.",
    ),
    "summary.covers": ("Covers the log up to position", "Cubre el registro hasta la posición"),
    "summary.events": ("events", "eventos"),
    "summary.vs_previous": ("vs. previous", "vs. anterior"),
    "summary.previous": ("previous", "anterior"),
    "summary.survivors_witnesses": (
        "survivors and witnesses arrested at court",
        "sobrevivientes y testigos arrestados en el tribunal",
    ),
    "summary.watched_hours": ("hours watched", "horas observadas"),
    "summary.per_hour": ("arrests per watched hour", "arrestos por hora observada"),
    "summary.share_detained": ("of call-ins detained", "de las citas terminaron en detención"),
    "summary.series.courthouse_arrest": ("arrests", "arrestos"),
    "summary.series.sighting": ("sightings", "avistamientos"),
    "summary.series.call_in": ("call-ins", "citas"),
    "summary.series.watched": ("hours watched", "horas observadas"),
    "summary.chart.daily": ("Reports per day", "Reportes por día"),
    "summary.chart.watched": ("Hours watched per day", "Horas observadas por día"),
    "summary.chart.roles": ("Who was arrested at court", "A quién arrestaron en el tribunal"),
    "summary.chart.courthouses": ("Courthouses with most arrests", "Tribunales con más arrestos"),
    "summary.no_courthouse": ("(map pin)", "(punto en el mapa)"),
    "summary.heatmap": ("Where", "Dónde"),
    "summary.breakdown": ("In detail", "En detalle"),
    "summary.revisions": ("Revisions", "Revisiones"),
    "summary.dim.agency": ("Agency", "Agencia"),
    "summary.dim.warrant": ("Warrant", "Orden"),
    "summary.dim.role": ("Role at court", "Papel en el tribunal"),
    "summary.dim.outcome": ("Outcome", "Resultado"),
    "summary.dim.status": ("Status", "Estado"),
    "summary.pipeline": (
        "Local police contact before ICE",
        "Contacto con la policía local antes de ICE",
    ),
    "summary.pipeline.share": (
        "of arrests and call-ins where it is known followed a local police contact",
        "de los arrestos y citas en que se sabe siguieron a un contacto con la policía local",
    ),
    "summary.pipeline.counts": (
        "with a contact · without · not known",
        "con contacto · sin contacto · no se sabe",
    ),
    "summary.pipeline.lag": (
        "days from the police contact to ICE's action (median)",
        "días desde el contacto con la policía hasta la acción de ICE (mediana)",
    ),
    "summary.pipeline.lag_n": ("reports with both dates", "reportes con ambas fechas"),
    "summary.pipeline.days": ("days", "días"),
    "summary.pipeline.by_jurisdiction": (
        "By county and detainer policy →",
        "Por condado y política de detainers →",
    ),
    "summary.pipeline.caveat": (
        "Reports are not a census: only what watchers saw and learned. "
        "“Not known” is left out of the share.",
        "Los reportes no son un censo: solo lo que vieron y supieron los observadores. "
        "“No se sabe” no cuenta en el porcentaje.",
    ),
    # Trends over weeks, plain words and exports (web/summaries/weekly.py, plain_words.py)
    "summary.months_short": (
        "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec",
        "ene feb mar abr may jun jul ago sep oct nov dic",
    ),
    "summary.months": (
        "January February March April May June July August September October November December",
        "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    ),
    "summary.label.week": ("week of {date}", "semana del {date}"),
    "summary.label.month": ("{month} {year}", "{month} de {year}"),
    "summary.rate.no_hours": (
        "no watched hours recorded, so no rate: nothing to divide by",
        "no hay horas observadas registradas, así que no hay tasa: nada entre qué dividir",
    ),
    "summary.rate.none": (
        "no arrests in {hours} watched hours",
        "ningún arresto en {hours} horas observadas",
    ),
    "summary.rate.per_hours": (
        "about 1 arrest per {n} watched hours",
        "aproximadamente 1 arresto por cada {n} horas observadas",
    ),
    "summary.rate.per_one_hour": (
        "about 1 arrest per watched hour",
        "aproximadamente 1 arresto por hora observada",
    ),
    "summary.rate.per_hour": (
        "about {n} arrests per watched hour",
        "aproximadamente {n} arrestos por hora observada",
    ),
    "summary.rate.per_hour_one": (
        "about 1 arrest per watched hour",
        "aproximadamente 1 arresto por hora observada",
    ),
    "summary.rate.counts": (
        "{arrests} in {hours} watched hours",
        "{arrests} en {hours} horas observadas",
    ),
    "summary.rate.one_arrest": ("1 arrest", "1 arresto"),
    "summary.rate.short": ("≈ 1 per {n} h", "≈ 1 cada {n} h"),
    "summary.rate.short_per_hour": ("≈ {n} per h", "≈ {n} por h"),
    "summary.rate.arrests": ("{n} arrests", "{n} arrestos"),
    "summary.weeks.heading": ("The last 12 weeks", "Las últimas 12 semanas"),
    "summary.weeks.arrests": ("Arrests per week", "Arrestos por semana"),
    "summary.weeks.watched": ("Hours watched per week", "Horas observadas por semana"),
    "summary.weeks.describe": (
        "{title}, {first} to {last}: {values}.",
        "{title}, del {first} al {last}: {values}.",
    ),
    "summary.weeks.table": ("The numbers, week by week", "Las cifras, semana por semana"),
    "summary.weeks.week": ("Week of", "Semana del"),
    "summary.weeks.rate": ("Rate", "Tasa"),
    "summary.weeks.as_of": (
        "Counted now from every report received so far, even on a published summary's page.",
        "Contado ahora con todos los reportes recibidos hasta hoy, también en la página de un "
        "resumen publicado.",
    ),
    "summary.weeks.csv": (
        "These 12 weeks, one row per courthouse and week (CSV)",
        "Estas 12 semanas, una fila por tribunal y semana (CSV)",
    ),
    "summary.geojson": ("Public reports (GeoJSON)", "Reportes públicos (GeoJSON)"),
    "summary.not_census": (
        "Reports are what watchers saw and sent, not a count of every arrest. Compare weeks "
        "only with the hours watched in mind.",
        "Los reportes son lo que los observadores vieron y enviaron, no un recuento de todos los "
        "arrestos. Compare semanas teniendo en cuenta las horas observadas.",
    ),
    # The live map page (its script reads these through map_labels()).
    "map.page_title": ("courtwatch — live map", "courtwatch — mapa en vivo"),
    "map.app_name": ("courtwatch", "courtwatch"),
    "map.page_heading": ("Live map", "Mapa en vivo"),
    "map.skip_to_feed": ("Skip to live activity", "Ir a la actividad en vivo"),
    "map.map_label": ("Map of reports", "Mapa de reportes"),
    "map.nav_report": ("Report", "Reportar"),
    "map.nav_trends": ("Trends", "Tendencias"),
    "map.pinned_place": ("pinned place", "lugar marcado"),
    "map.agents_fmt": ("{count} agents", "{count} agentes"),
    "map.filters": ("Filters", "Filtros"),
    "map.kind": ("Kind", "Tipo"),
    "map.time_window": ("Time window", "Periodo"),
    "map.window_6h": ("Last 6 hours", "Últimas 6 horas"),
    "map.window_24h": ("Last 24 hours", "Últimas 24 horas"),
    "map.window_7d": ("Last 7 days", "Últimos 7 días"),
    "map.window_30d": ("Last 30 days", "Últimos 30 días"),
    "map.window_all": ("All time", "Todo"),
    "map.courthouse": ("Courthouse", "Tribunal"),
    "map.all_courthouses": ("All courthouses", "Todos los tribunales"),
    "map.legend": ("What the marks mean", "Qué significan las marcas"),
    "map.stale": ("Old sighting, not verified", "Avistamiento antiguo, sin verificar"),
    "map.seen_too_fmt": (
        "{count} said they saw it too (not a verification)",
        "{count} dijeron haberlo visto también (no es una verificación)",
    ),
    "map.conn_connecting": ("Connecting…", "Conectando…"),
    "map.conn_live": ("Live", "En vivo"),
    "map.conn_reconnecting": ("Reconnecting…", "Reconectando…"),
    "map.conn_disconnected_fmt": ("Disconnected since {time}", "Desconectado desde las {time}"),
    "map.feed_heading": ("Live activity", "Actividad en vivo"),
    "map.feed_empty": (
        "No activity for these filters yet.",
        "Todavía no hay actividad con estos filtros.",
    ),
    "map.feed_announce_fmt": ("{event}: {kind}, {title}", "{event}: {kind}, {title}"),
    "map.feed_new_fmt": ("{count} new", "{count} nuevos"),
    "event.Redacted": ("Details redacted", "Datos ocultados"),
    "map.observed": ("Observed", "Observado"),
    "map.last_update": ("Last update", "Última actualización"),
    "map.open_report": ("Open report", "Abrir reporte"),
    "map.truncated": (
        "Too many reports here: showing the most recent. Zoom in to see all.",
        "Hay demasiados reportes aquí: se muestran los más recientes. Acerque el mapa para verlos todos.",
    ),
    # A server-side cluster (a wide view of many reports): its label for screen
    # readers and on hover; selecting it zooms in.
    "map.cluster_fmt": (
        "{count} reports here ({arrests} arrests). Select to zoom in.",
        "{count} reportes aquí ({arrests} arrestos). Seleccione para acercar el mapa.",
    ),
    "map.clusters_notice_fmt": (
        "{count} reports in view, grouped by area. Zoom in to see each one.",
        "{count} reportes en el mapa, agrupados por zona. Acerque el mapa para ver cada uno.",
    ),
    "map.load_failed": (
        "Could not load reports. Retrying…",
        "No se pudieron cargar los reportes. Reintentando…",
    ),
    # A warm load draws the view this phone saved last time, at once, and says so
    # until the server has answered: saved data never passes for current.
    "map.saved_fmt": (
        "Saved map from {time}. Updating…",
        "Mapa guardado de las {time}. Actualizando…",
    ),
    "map.saved_offline_fmt": (
        "Saved map from {time}: no connection, it may be out of date. Retrying…",
        "Mapa guardado de las {time}: sin conexión, puede no estar al día. Reintentando…",
    ),
    "map.outlines_attribution": (
        "Outlines: U.S. Census Bureau",
        "Contornos: Oficina del Censo de EE. UU.",
    ),
    # Time zones next to "When" (courtwatch/timezones.py names the families).
    "zone.atlantic": ("Atlantic time", "hora del Atlántico"),
    "zone.eastern": ("Eastern time", "hora del Este"),
    "zone.central": ("Central time", "hora del Centro"),
    "zone.mountain": ("Mountain time", "hora de la Montaña"),
    "zone.pacific": ("Pacific time", "hora del Pacífico"),
    "zone.alaska": ("Alaska time", "hora de Alaska"),
    "zone.hawaii": ("Hawaii-Aleutian time", "hora de Hawái-Aleutianas"),
    "zone.samoa": ("Samoa time", "hora de Samoa"),
    "zone.chamorro": ("Chamorro time", "hora de Chamorro"),
    "zone.hint": (
        "Type the local time at the courthouse (or where the pin is).",
        "Escriba la hora local del tribunal (o del lugar del marcador).",
    ),
    "zone.mismatch": (
        "Your phone is on {phone}; this courthouse is on {place}: enter the "
        "courthouse's local time.",
        "Su teléfono está en {phone}; este tribunal está en {place}: escriba la hora "
        "local del tribunal.",
    ),
    # Team members (web/members/): sign-in, invites, the members page.
    "nav.team": ("Team sign-in", "Equipo"),
    "role_member.responder": ("Responder", "Respuesta rápida"),
    "role_member.lawyer": ("Lawyer", "Abogado/a"),
    "role_member.coordinator": ("Coordinator", "Coordinación"),
    "members.signin_title": ("Team sign-in", "Acceso del equipo"),
    "members.signin_intro": (
        "Responders, lawyers and coordinators sign in with a passkey: your phone's "
        "fingerprint or face, or a security key. There is no password.",
        "Quienes responden, abogados y coordinación entran con una llave de acceso "
        "(passkey): la huella o la cara en su teléfono, o una llave de seguridad. No hay "
        "contraseña.",
    ),
    "members.signin_button": ("Sign in with a passkey", "Entrar con llave de acceso"),
    "members.signin_note": (
        "Reporting does not need an account. Lost your passkey? Ask a coordinator for a "
        "new invite.",
        "Para reportar no hace falta cuenta. ¿Perdió su llave de acceso? Pida una nueva "
        "invitación a coordinación.",
    ),
    "members.signed_in_as": ("Signed in as", "Sesión iniciada como"),
    "members.open_members": ("Open the members page", "Abrir la página del equipo"),
    "members.signout": ("Sign out", "Cerrar sesión"),
    "members.passkey_failed": (
        "The passkey was not accepted. Try again, or ask a coordinator for a new invite.",
        "La llave de acceso no fue aceptada. Inténtelo de nuevo o pida una nueva "
        "invitación a coordinación.",
    ),
    "members.passkey_unsupported": (
        "This browser cannot use passkeys. Try an up-to-date browser on your phone.",
        "Este navegador no puede usar llaves de acceso. Pruebe un navegador actualizado "
        "en su teléfono.",
    ),
    "members.needs_javascript": (
        "Passkeys need JavaScript: turn it on for this site.",
        "Las llaves de acceso necesitan JavaScript: actívelo para este sitio.",
    ),
    "members.invite_title": ("Join the team", "Unirse al equipo"),
    "members.invite_intro": (
        "Choose the name the team will see (a nickname is fine; not your legal name), "
        "then create a passkey on this device.",
        "Elija el nombre que verá el equipo (un apodo está bien; no su nombre legal) y "
        "luego cree una llave de acceso en este dispositivo.",
    ),
    "members.roles_granted": ("This invite gives you", "Esta invitación le da"),
    "members.display_name": ("Name the team sees", "Nombre que ve el equipo"),
    "members.display_name_hint": (
        "1 to 60 characters. No email or phone number is needed.",
        "De 1 a 60 caracteres. No hace falta correo ni teléfono.",
    ),
    "members.name_problem": (
        "Choose a name of 1 to 60 ordinary characters.",
        "Elija un nombre de 1 a 60 caracteres normales.",
    ),
    "members.create_passkey": ("Create my passkey", "Crear mi llave de acceso"),
    "members.invite_unusable": (
        "This invite link cannot be used: it was used already, it expired (after 48 hours), "
        "or it was copied wrong. Ask a coordinator for a new one.",
        "Este enlace de invitación no se puede usar: ya se usó, venció (a las 48 horas) o "
        "se copió mal. Pida uno nuevo a coordinación.",
    ),
    "members.title": ("Team members", "Miembros del equipo"),
    "members.no_roles": ("no roles", "sin funciones"),
    "members.invite_someone": ("Invite someone", "Invitar a alguien"),
    "members.invite_button": ("Make a one-time invite", "Crear invitación de un solo uso"),
    "members.open_invites": ("Open invites", "Invitaciones abiertas"),
    "members.invite_expires": ("expires", "caduca"),
    "members.cancel_invite": ("Cancel invite", "Cancelar invitación"),
    "members.no_open_invites": ("No open invites.", "No hay invitaciones abiertas."),
    "members.invite_made": (
        "One-time invite, valid 48 hours. Hand it over in person or on a secure channel:",
        "Invitación de un solo uso, válida 48 horas. Entréguela en persona o por un canal seguro:",
    ),
    "members.save_roles": ("Save roles", "Guardar funciones"),
    "members.revoke": ("Revoke", "Revocar"),
    "members.revoked": ("revoked", "revocado"),
    "members.your_passkeys": ("Your passkeys", "Sus llaves de acceso"),
    "members.passkey": ("Passkey", "Llave"),
    "members.added": ("added", "añadida"),
    "members.add_passkey": ("Add another passkey", "Añadir otra llave de acceso"),
    "members.none": ("None yet.", "Todavía no hay."),
    "members.your_tokens": ("Your API tokens", "Sus tokens de API"),
    "members.tokens_intro": (
        "For scripts and other programs that act in your name. Anything done with a token "
        "is recorded under your name.",
        "Para scripts y otros programas que actúan en su nombre. Todo lo hecho con un token "
        "queda registrado con su nombre.",
    ),
    "members.token_label": ("What the token is for", "Para qué es el token"),
    "members.issue_token": ("Issue a token", "Emitir un token"),
    "members.token_shown_once": (
        "Your new API token, shown only this once. Copy it now:",
        "Su nuevo token de API, que se muestra solo esta vez. Cópielo ahora:",
    ),
    # Members' actions on a report (history and the console).
    "event.Claimed": ("A team member is going", "Un miembro del equipo va en camino"),
    "event.ConfirmedOnScene": (
        "Confirmed on scene by a team member",
        "Confirmado en el lugar por un miembro del equipo",
    ),
    "event.Resolved": ("Resolved", "Resuelto"),
    "history.by": ("by", "por"),
    "history.reason": ("reason", "motivo"),
    "history.name_withheld": (
        "name withheld for 24 hours: it says where a person is",
        "nombre reservado 24 horas: dice dónde está una persona",
    ),
    "history.who": ("Who and why", "Quién y por qué"),
    "history.changed": ("changed", "cambió"),
    # The responder console.
    "nav.console": ("Console", "Consola"),
    "console.title": ("Responder console", "Consola de respuesta"),
    "console.intro": (
        "Reports that need a verdict, newest first. The list updates by itself.",
        "Reportes que necesitan un veredicto, los más nuevos primero. La lista se actualiza sola.",
    ),
    "console.filters": ("Show only", "Mostrar solo"),
    "console.courthouses": ("Courthouses", "Tribunales"),
    "console.kinds": ("Kinds", "Tipos"),
    "console.apply": ("Apply", "Aplicar"),
    "console.empty": ("Nothing needs a verdict right now.", "Nada necesita veredicto ahora."),
    "console.live": ("Live", "En vivo"),
    "console.offline": ("Reconnecting…", "Reconectando…"),
    "console.verify": ("Verify", "Verificar"),
    "console.dispute": ("Dispute", "Disputar"),
    "console.reason": ("Reason", "Motivo"),
    "console.choose_reason": ("Choose a reason", "Elija un motivo"),
    "console.claim": ("I'm going", "Voy yo"),
    "console.on_scene": ("On scene / confirmed", "En el lugar / confirmado"),
    "console.resolve": ("Resolved", "Resuelto"),
    "console.record_outcome": ("Record outcome", "Registrar resultado"),
    "console.going": ("Going", "Van"),
    "console.there": ("On scene", "En el lugar"),
    "console.agents": ("agents", "agentes"),
    "console.done": ("Done.", "Hecho."),
    "console.nothing_changed": (
        "Already recorded: nothing changed.",
        "Ya estaba registrado: no cambió nada.",
    ),
    "console.failed": ("That did not work:", "Eso no funcionó:"),
    "console.open_report": ("Open the report", "Abrir el reporte"),
    "console.members_page": ("Your passkeys and tokens", "Sus llaves y tokens"),
    "console.needs_responder": (
        "Your roles do not include responder: you can read the queue but not act on it.",
        "Sus funciones no incluyen respuesta rápida: puede ver la lista pero no actuar.",
    ),
    # The watcher's own-report page, reached with the edit key.
    "manage.title": ("Your report", "Su reporte"),
    "manage.intro": (
        "Paste your edit key to correct this report, record what happened or end your "
        "watch shift. The key stays on this phone and in this form: it is never put in "
        "an address.",
        "Pegue su clave de edición para corregir este reporte, registrar lo que pasó o "
        "terminar su turno. La clave se queda en este teléfono y en este formulario: "
        "nunca se pone en una dirección.",
    ),
    "manage.key": ("Edit key", "Clave de edición"),
    "manage.open": ("Open my report", "Abrir mi reporte"),
    "manage.wrong_key": (
        "This key does not open this report.",
        "Esta clave no abre este reporte.",
    ),
    "manage.copy_key": ("Copy the key", "Copiar la clave"),
    "manage.copied": ("Copied.", "Copiada."),
    "manage.keep_link": (
        "Private link for this phone (bookmark it, share it with no one):",
        "Enlace privado para este teléfono (guárdelo, no lo comparta con nadie):",
    ),
    "manage.amend": ("Correct the report", "Corregir el reporte"),
    "manage.save": ("Save the correction", "Guardar la corrección"),
    "manage.outcome": ("What happened", "Qué pasó"),
    "manage.save_outcome": ("Record the outcome", "Registrar el resultado"),
    "manage.end_shift": ("End my watch shift", "Terminar mi turno"),
    "manage.ended_at": ("Ended at (local time)", "Terminó a las (hora local)"),
    "manage.shift_running": (
        "Your watch shift is still running: no one else can see it until it ends.",
        "Su turno sigue en curso: nadie más lo ve hasta que termine.",
    ),
    "manage.shift_ended": ("Your watch shift has ended.", "Su turno terminó."),
    "manage.saved": ("Saved.", "Guardado."),
    "manage.nothing_changed": (
        "The report already said that: nothing changed.",
        "El reporte ya decía eso: no cambió nada.",
    ),
    "manage.manage_link": (
        "Correct it, record the outcome or end the shift later:",
        "Corregirlo, registrar el resultado o terminar el turno más tarde:",
    ),
    "manage.open_page": ("open your report's page", "abrir la página de su reporte"),
    "manage.needs_js_or_paste": (
        "Opening… (without JavaScript, paste the key below)",
        "Abriendo… (sin JavaScript, pegue la clave abajo)",
    ),
}


# Photos on the report form (web/reports/form_photos.py, sealed/form_section.html).
_PHOTO_MB = MOST_PHOTO_BYTES // (1024 * 1024)
TEXT.update(
    {
        "field.photos": ("Photos", "Fotos"),
        "photos.label": ("Photos (sealed)", "Fotos (selladas)"),
        "photos.hint": (
            f"Optional: up to {MOST_PHOTOS} photos (JPEG, PNG, WebP or iPhone HEIC), "
            f"{_PHOTO_MB} MB each. Only the legal team sees the original; its location "
            "and camera details are never published.",
            f"Opcional: hasta {MOST_PHOTOS} fotos (JPEG, PNG, WebP o HEIC de iPhone), "
            f"de {_PHOTO_MB} MB cada una. Solo el equipo legal ve el original; su ubicación "
            "y los datos de la cámara nunca se publican.",
        ),
        "photos.choose_again": (
            "Photos are not kept when the form comes back: choose them again.",
            "Las fotos no se guardan cuando el formulario vuelve: elíjalas de nuevo.",
        ),
        "problem.photo_too_large": (
            f"Photo {{n}} is larger than {_PHOTO_MB} MB. Choose a smaller one.",
            f"La foto {{n}} pesa más de {_PHOTO_MB} MB. Elija una más pequeña.",
        ),
        "problem.photo_type": (
            "Photo {n} is not a JPEG, PNG, WebP or HEIC photo.",
            "La foto {n} no es una foto JPEG, PNG, WebP o HEIC.",
        ),
        "problem.photo_pixels": (
            "Photo {n} has more pixels than any camera takes.",
            "La foto {n} tiene más píxeles de los que toma cualquier cámara.",
        ),
        "problem.photo_damaged": (
            "Photo {n} is damaged or incomplete. Choose it again or take another.",
            "La foto {n} está dañada o incompleta. Elíjala de nuevo o tome otra.",
        ),
        "problem.photo_empty": (
            "Photo {n} is empty (0 bytes).",
            "La foto {n} está vacía (0 bytes).",
        ),
        "problem.photo_count": (
            "At most {n} photos per report.",
            "Como máximo {n} fotos por reporte.",
        ),
        "problem.photos_too_large": (
            f"The photos together are too large (at most {MOST_PHOTOS} of {_PHOTO_MB} MB). "
            "Nothing was saved: fill in the form again.",
            f"Las fotos juntas pesan demasiado (como máximo {MOST_PHOTOS} de {_PHOTO_MB} MB). "
            "No se guardó nada: llene el formulario de nuevo.",
        ),
        "problem.form_unreadable": (
            "The form could not be read (too many parts or a field too long). "
            "Nothing was saved: fill it in again.",
            "No se pudo leer el formulario (demasiadas partes o un campo demasiado largo). "
            "No se guardó nada: llénelo de nuevo.",
        ),
        "outbox.photos_too_many": (
            f"At most {MOST_PHOTOS} photos per report. Remove some and send again.",
            f"Como máximo {MOST_PHOTOS} fotos por reporte. Quite algunas y envíe de nuevo.",
        ),
        "outbox.photo_too_large": (
            f"A photo is larger than {_PHOTO_MB} MB. Choose a smaller one.",
            f"Una foto pesa más de {_PHOTO_MB} MB. Elija una más pequeña.",
        ),
        "outbox.photo_empty": (
            "A photo is empty (0 bytes). Choose it again.",
            "Una foto está vacía (0 bytes). Elíjala de nuevo.",
        ),
        "outbox.not_kept": (
            "This phone has no room to keep the report until there is signal. "
            "Remove a photo, or send it when there is signal.",
            "Este teléfono no tiene espacio para guardar el reporte hasta que haya señal. "
            "Quite una foto, o envíelo cuando haya señal.",
        ),
    }
)

# Alerts (docs/alerts.md): what a push notification says. No personal detail
# ever reaches it, only what the public map shows.
TEXT.update(
    {
        "alerts.title": ("{kind} at {courthouse}", "{kind} en {courthouse}"),
        "alerts.nearby": ("a courthouse nearby", "un tribunal cercano"),
        "alerts.body": (
            "Status: {status}. Reports in this incident: {count}.",
            "Estado: {status}. Reportes en este incidente: {count}.",
        ),
        "alerts.page_title": ("Alerts", "Alertas"),
        "alerts.intro": (
            "Get a notification on this phone when a report matches: your courthouses, "
            "the kinds you choose, from the status you choose. Reports at one courthouse "
            "within 20 minutes are one alert.",
            "Reciba una notificación en este teléfono cuando un reporte coincida: sus "
            "tribunales, los tipos que elija, desde el estado que elija. Los reportes de un "
            "tribunal en 20 minutos son una sola alerta.",
        ),
        "alerts.push_button": ("Turn on alerts on this phone", "Activar alertas en este teléfono"),
        "alerts.push_on": (
            "Alerts are on for this phone.",
            "Las alertas están activadas en este teléfono.",
        ),
        "alerts.push_unsupported": (
            "This browser cannot receive alerts. On an iPhone, add courtwatch to the home "
            "screen first (iOS 16.4 or later).",
            "Este navegador no puede recibir alertas. En un iPhone, agregue courtwatch a la "
            "pantalla de inicio primero (iOS 16.4 o posterior).",
        ),
        "alerts.failed": ("That did not work.", "No funcionó."),
        "alerts.yours": ("Your alerts", "Sus alertas"),
        "alerts.none": ("No alerts yet.", "Todavía no hay alertas."),
        "alerts.add": ("Add an alert", "Agregar una alerta"),
        "alerts.add_button": ("Add", "Agregar"),
        "alerts.remove": ("Remove", "Quitar"),
        "alerts.label": ("Name (optional)", "Nombre (opcional)"),
        "alerts.courthouses": ("Courthouses", "Tribunales"),
        "alerts.courthouses_hint": (
            "Choose one or more (on a computer, hold Ctrl or ⌘ to choose several).",
            "Elija uno o varios (en una computadora, mantenga Ctrl o ⌘ para elegir varios).",
        ),
        "alerts.area": ("Area", "Zona"),
        "alerts.kinds": ("Kinds of report", "Tipos de reporte"),
        "alerts.min_status": ("Alert from", "Alertar desde"),
        "alerts.level.any": ("Every new report", "Cada reporte nuevo"),
        "alerts.level.on_scene": (
            "Confirmed on scene by a member",
            "Confirmado en el lugar por un miembro",
        ),
        "alerts.level.verified": ("Verified", "Verificado"),
        "alerts.quiet": ("Quiet hours", "Horas de silencio"),
        "alerts.quiet_from": ("From", "Desde"),
        "alerts.quiet_to": ("To", "Hasta"),
        "alerts.quiet_hint": (
            "An alert in these hours waits until they end.",
            "Una alerta en estas horas espera hasta que terminen.",
        ),
        "alerts.timezone": ("Time zone", "Zona horaria"),
        "alerts.area_hint": (
            "Or alert for reports inside an area: zoom in to it, then tap its centre for a "
            "circle, or tap its corners one by one.",
            "O alertar de reportes dentro de una zona: acérquese a ella y toque el centro "
            "para un círculo, o toque sus esquinas una por una.",
        ),
        "alerts.area_none": ("No area", "Sin zona"),
        "alerts.area_circle_mode": ("Circle", "Círculo"),
        "alerts.area_polygon_mode": ("Draw corners", "Dibujar esquinas"),
        "alerts.area_radius": ("Radius (km)", "Radio (km)"),
        "alerts.area_undo": ("Undo last corner", "Deshacer la última esquina"),
        "alerts.area_clear": ("Clear", "Borrar"),
        "alerts.map_corners": ("Corners: {n}", "Esquinas: {n}"),
        "alerts.map_too_many": (
            "At most {n} corners.",
            "Como máximo {n} esquinas.",
        ),
        "alerts.map_too_big": (
            "Too large: zoom in and draw a smaller area (at most about 500 km across).",
            "Demasiado grande: acérquese y dibuje una zona más pequeña (como máximo unos 500 km).",
        ),
        "alerts.bad.courthouses": (
            "Choose at least one courthouse or draw an area.",
            "Elija al menos un tribunal o dibuje una zona.",
        ),
        "alerts.bad.area": (
            "The drawn area cannot be used: 3 to 100 corners, edges that do not cross, at "
            "most about 500 km across; a circle of at most 50 km.",
            "No se puede usar la zona dibujada: de 3 a 100 esquinas, lados que no se crucen, "
            "como máximo unos 500 km; un círculo de como máximo 50 km.",
        ),
        "alerts.bad.quiet_hours": (
            "Quiet hours need a start and an end, and they must differ.",
            "Las horas de silencio necesitan un inicio y un final distintos.",
        ),
        "alerts.bad.timezone": (
            "Time zone: use a name such as America/New_York.",
            "Zona horaria: use un nombre como America/New_York.",
        ),
        "alerts.bad.label": (
            "The name is too long or has characters that are not allowed.",
            "El nombre es demasiado largo o tiene caracteres no permitidos.",
        ),
        "alerts.bad.other": (
            "Check the courthouses, kinds and status.",
            "Revise los tribunales, los tipos y el estado.",
        ),
        "alerts.bad.too_many": (
            "You have the most alerts allowed (50): remove one first.",
            "Ya tiene el máximo de alertas (50): quite una primero.",
        ),
        "alerts.area_circle": (
            "Area: {km} km around a point",
            "Zona: {km} km alrededor de un punto",
        ),
        "alerts.area_drawn": ("Area: drawn, {n} corners", "Zona: dibujada, {n} esquinas"),
        "alerts.on_map": ("Your alerts ({n})", "Sus alertas ({n})"),
        "alerts.edit": ("Change", "Cambiar"),
        "alerts.editing": ("Change this alert", "Cambiar esta alerta"),
        "alerts.save": ("Save changes", "Guardar cambios"),
        "alerts.cancel": ("Cancel", "Cancelar"),
        "alerts.area_edit_hint": (
            "Your areas are drawn in grey. Drag the dots to move a circle, resize it or move "
            "a corner; Clear to draw it again.",
            "Sus zonas se ven en gris. Arrastre los puntos para mover un círculo, cambiar su "
            "tamaño o mover una esquina; Borrar para dibujarla de nuevo.",
        ),
    }
)


# Jurisdictions (web/jurisdictions/): kept in their own module, merged here.
TEXT.update(JURISDICTION_TEXT)


# A bad sealed field is named on the form by its label.
TEXT.update(
    {
        "field.sealed." + key.removeprefix("sealed_field."): pair
        for key, pair in list(TEXT.items())
        if key.startswith("sealed_field.")
    }
)


def negotiate(request: Request) -> str:
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return asked
    accept = request.headers.get("accept-language", "")
    for part in accept.split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "en"


def translator(lang: str) -> Callable[[str], str]:
    index = LANGUAGES.index(lang) if lang in LANGUAGES else 0

    def t(key: str) -> str:
        pair = TEXT.get(key)
        return pair[index] if pair else key

    return t


# Label names the map's script uses, and the dictionary entries they come from:
# one wording per term on every page (a status reads the same on the map and on
# the report page).
_MAP_SHARED = ("status_", "kind_", "event_")


def map_labels(lang: str) -> dict[str, str]:
    """The labels the live map page hands its script, in ``lang``."""
    index = LANGUAGES.index(lang)
    labels: dict[str, str] = {}
    for key, pair in TEXT.items():
        group, _, name = key.partition(".")
        if group == "map":
            labels[name] = pair[index]
        elif f"{group}_" in _MAP_SHARED and "." not in name:
            labels[f"{group}_{name}"] = pair[index]
    return labels


# Validation reasons come from pydantic and the domain in English. A page shows
# them in the reader's language: each known wording maps to a translated
# message (with its number, if any); anything unknown becomes a plain "cannot be
# used" rather than untranslated validator text.
_PROBLEMS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), key)
    for pattern, key in (
        # Photos of the report form (web/reports/form_photos.py): "photo 2: <why>".
        (r"^photo ([0-9]{1,2}): a photo is at most", "problem.photo_too_large"),
        (r"^photo ([0-9]{1,2}): not a JPEG", "problem.photo_type"),
        (r"^photo ([0-9]{1,2}): the photo has more pixels", "problem.photo_pixels"),
        (r"^photo ([0-9]{1,2}): the photo is damaged", "problem.photo_damaged"),
        (r"^photo ([0-9]{1,2}): the photo is empty", "problem.photo_empty"),
        (r"^at most ([0-9]{1,3}) photos", "problem.photo_count"),
        (r"^photos together are too large", "problem.photos_too_large"),
        (r"^the form could not be read", "problem.form_unreadable"),
        (r"^field required|^required", "problem.required"),
        (r"less than(?: or equal to)? (-?[0-9.]{1,12})$", "problem.at_most"),
        (r"greater than(?: or equal to)? (-?[0-9.]{1,12})$", "problem.at_least"),
        (r"must be between", "problem.range"),
        (r"valid integer|whole number|fractional part", "problem.whole_number"),
        (r"valid number|finite number|a number", "problem.number"),
        (r"future", "problem.future"),
        (r"valid datetime|timezone|time zone|datetime", "problem.datetime"),
        (r"valid date|date", "problem.date"),
        (r"at most ([0-9]{1,6}) character", "problem.too_long"),
        (r"at least ([0-9]{1,6}) character", "problem.too_short"),
        (r"^input should be '|^one of |enumeration member", "problem.choice"),
        (r"unknown courthouse", "problem.unknown_courthouse"),
        (r"both lat and lon", "problem.pin_pair"),
        (r"courthouse or drop a pin", "problem.place_required"),
        (r"unknown field", "problem.unknown_field"),
        (r"control character", "problem.control_characters"),
    )
)


def problem_text(lang: str, reason: str) -> str:
    """A validation reason in the reader's language, never raw validator text."""
    t = translator(lang)
    for pattern, key in _PROBLEMS:
        found = pattern.search(reason)
        if not found:
            continue
        number = found.group(1) if found.groups() else ""
        return t(key).replace("{n}", number)
    return t("problem.other")


def alert_labels(lang: str) -> dict[str, object]:
    """The words the service worker needs to show an alert, in ``lang``."""
    t = translator(lang)
    prefix = ("kind.", "status.")
    return {
        "title": t("alerts.title"),
        "nearby": t("alerts.nearby"),
        "body": t("alerts.body"),
        "kinds": {k.removeprefix("kind."): t(k) for k in TEXT if k.startswith(prefix[0])},
        "statuses": {k.removeprefix("status."): t(k) for k in TEXT if k.startswith(prefix[1])},
    }
