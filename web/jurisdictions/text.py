"""English and Spanish text of the jurisdiction pages (merged into web/i18n.TEXT)."""

from __future__ import annotations

TEXT: dict[str, tuple[str, str]] = {
    "nav.jurisdictions": ("Jurisdictions", "Jurisdicciones"),
    "jurisdictions.title": ("Jurisdictions", "Jurisdicciones"),
    "jurisdictions.intro": (
        "Each courthouse is in a county. Whether the county's jail honours ICE detainers "
        "decides how an arrest by local police leads to ICE: coordinators record each "
        "county's policy with its public source and the date it took effect.",
        "Cada tribunal está en un condado. Si la cárcel del condado respeta las órdenes de "
        "retención (detainers) de ICE decide cómo un arresto de la policía local lleva a ICE: "
        "los coordinadores registran la política de cada condado con su fuente pública y la "
        "fecha en que entró en vigor.",
    ),
    "jurisdictions.not_found": (
        "No county has this FIPS code.",
        "Ningún condado tiene este código FIPS.",
    ),
    "jurisdictions.county": ("County", "Condado"),
    "jurisdictions.fips": ("FIPS code", "Código FIPS"),
    "jurisdictions.cities": ("Cities", "Ciudades"),
    "jurisdictions.courthouses": ("Courthouses", "Tribunales"),
    "jurisdictions.no_courthouses": (
        "No listed courthouse is in this county.",
        "Ningún tribunal de la lista está en este condado.",
    ),
    "jurisdictions.policy_now": ("Detainer policy today", "Política de detainers hoy"),
    "jurisdictions.since": ("since", "desde"),
    "jurisdictions.from": ("from", "desde"),
    "jurisdictions.source": ("source", "fuente"),
    "jurisdictions.none_recorded": (
        "No policy recorded yet.",
        "Todavía no hay política registrada.",
    ),
    "jurisdictions.history": ("Policy history", "Historial de políticas"),
    "jurisdictions.recorded": ("recorded", "registrado"),
    "jurisdictions.corrects": ("corrects", "corrige"),
    "jurisdictions.corrected_by": ("corrected by", "corregido por"),
    "jurisdictions.weekly_title": (
        "Reports per week, last 12 weeks",
        "Reportes por semana, últimas 12 semanas",
    ),
    "jurisdictions.week_of": ("Week of", "Semana del"),
    "jurisdictions.weekly_note": (
        "Reports at this county's courthouses (arrests, sightings, call-ins), counted on "
        "each courthouse's local days; weeks start on Monday. Reports are not a census: "
        "a week without watchers shows few.",
        "Reportes en los tribunales de este condado (arrestos, agentes vistos, citas), "
        "contados por el día local de cada tribunal; las semanas empiezan el lunes. Los "
        "reportes no son un censo: una semana sin observadores muestra pocos.",
    ),
    "jurisdictions.pipeline_title": (
        "Police contact before ICE, by detainer policy",
        "Contacto con la policía antes de ICE, según la política de detainers",
    ),
    "jurisdictions.pipeline_span": (
        "Arrests and call-ins reported from {first} to {last} (12 weeks).",
        "Arrestos y citas reportados del {first} al {last} (12 semanas).",
    ),
    "jurisdictions.policy_in_force": (
        "Policy in force that day",
        "Política en vigor ese día",
    ),
    "jurisdictions.share_contact": (
        "Preceded by a police contact (with · without · not known)",
        "Con contacto policial antes (con · sin · no se sabe)",
    ),
    "jurisdictions.median_lag": (
        "Days from the contact to ICE (median)",
        "Días del contacto a ICE (mediana)",
    ),
    "jurisdictions.all_policies": ("All", "Todas"),
    "jurisdictions.lag_distribution": (
        "Days from the police contact to ICE's action, all reports above",
        "Días desde el contacto con la policía hasta la acción de ICE, todos los reportes de arriba",
    ),
    "jurisdictions.pipeline_note": (
        "Each report counts under the policy its county had on the report's own day, so a "
        "policy that changed in these weeks splits them on the day it took effect.",
        "Cada reporte cuenta bajo la política que tenía su condado el día del reporte, así "
        "que una política que cambió en estas semanas las divide el día en que entró en vigor.",
    ),
    "jurisdictions.record": ("Record a policy", "Registrar una política"),
    "jurisdictions.policy": ("Policy", "Política"),
    "jurisdictions.effective_on": ("In force from", "En vigor desde"),
    "jurisdictions.source_url": (
        "Source (a public https link)",
        "Fuente (un enlace https público)",
    ),
    "jurisdictions.corrects_label": ("Corrects", "Corrige"),
    "jurisdictions.new_entry": ("Nothing: a new entry", "Nada: una entrada nueva"),
    "jurisdictions.record_button": ("Record", "Registrar"),
    "jurisdictions.refused": ("Not recorded.", "No se registró."),
    "jurisdictions.bad.policy": ("Choose a policy.", "Elija una política."),
    "jurisdictions.bad.source_url": (
        "The source must be a public link starting with https://.",
        "La fuente debe ser un enlace público que empiece con https://.",
    ),
    "jurisdictions.bad.effective_on": (
        "The date must be a real date from 2000 on, at most about a year ahead.",
        "La fecha debe ser una fecha real desde 2000, como máximo un año adelante.",
    ),
    "jurisdictions.bad.corrects": (
        "That entry cannot be corrected (already corrected, or of another county).",
        "Esa entrada no se puede corregir (ya corregida, o de otro condado).",
    ),
    "jurisdictions.bad.entry": (
        "That entry cannot be corrected (already corrected, or of another county).",
        "Esa entrada no se puede corregir (ya corregida, o de otro condado).",
    ),
    "jurisdictions.bad.fips": ("Unknown county.", "Condado desconocido."),
    "jurisdictions.bad.member": ("Your name is missing.", "Falta su nombre."),
    "policy.honors": ("Honors detainers", "Respeta los detainers"),
    "policy.limits": ("Limits detainers", "Limita los detainers"),
    "policy.refuses": ("Refuses detainers", "Rechaza los detainers"),
    "policy.unknown": ("Unknown", "Desconocida"),
    "policy.help.honors": (
        "The jail holds people for ICE when a detainer is lodged.",
        "La cárcel retiene a las personas para ICE cuando hay un detainer.",
    ),
    "policy.help.limits": (
        "The jail honours some detainers only (for example with a judicial warrant, or "
        "for some charges).",
        "La cárcel respeta solo algunos detainers (por ejemplo con una orden judicial, o "
        "por algunos cargos).",
    ),
    "policy.help.refuses": (
        "The jail does not hold people on ICE detainers.",
        "La cárcel no retiene a personas por detainers de ICE.",
    ),
    "policy.help.unknown": (
        "Not known: no source recorded, or the source does not say.",
        "No se sabe: no hay fuente registrada, o la fuente no lo dice.",
    ),
}
