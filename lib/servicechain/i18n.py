"""Words and number formats in English and Spanish.

Every word a reader sees on ``index.html``, in a table header or on an axis goes
through :func:`t`; every number through :func:`fmt_number`, :func:`fmt_pct`,
:func:`fmt_money` or :func:`fmt_date`. The two word tables must have the same keys
(``tests/test_i18n.py`` checks it).

>>> fmt_number(1234.5, "es", 1), fmt_number(1234.5, "en", 1)
('1.234,5', '1,234.5')
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

LANGS = ("en", "es")
MISSING = "–"  # en dash for a missing value
NBSP = "\u00a0"

WORDS: dict[str, dict[str, str]] = {
    "en": {
        # index / report chrome
        "app_name": "servicechain",
        "report_title": "Employee experience and the service-profit chain",
        "quarter_at_a_glance": "The quarter at a glance",
        "detailed_reports": "Detailed reports",
        "generated": "Generated",
        "data_kind": "Data",
        "data_kind_panel": "HR history (panel)",
        "data_kind_snapshot": "HR snapshot",
        "vs_previous_quarter": "vs. previous quarter",
        "no_previous_quarter": "no previous report",
        "vs_quarter": "vs. {q}",
        "no_clear_change": "no clear change {vs} ({delta}, within the noise of ±{noise})",
        "trend": "Trend",
        "not_available": "not available",
        "back_to_index": "All reports",
        "table_scroll_hint": "Scroll sideways for the whole table →",
        "chart_scroll_hint": "Scroll sideways for the whole diagram →",
        "language": "Language",
        "privacy_note": "Aggregates only. Groups smaller than {threshold} people are not shown.",
        "money_note": "Median (P50) of the scenario “{scenario}”.",
        "money_range": "Likely between {lo} and {hi} (P10–P90).",
        "points": "pp",
        "notebook": "Report",
        "status": "Status",
        "status_ok": "completed",
        # KPIs
        "headcount": "Headcount",
        "voluntary_turnover": "Voluntary turnover",
        "voluntary_turnover_rate": "Voluntary turnover",
        "nps": "NPS",
        "customer_retention": "Customer retention",
        "customer_retention_rate": "Customer retention",
        "money_at_stake": "Money at stake",
        "early_leavers": "Early leavers",
        "idx_lead_h": "This quarter in brief",
        "idx_incomplete": "{quarter} is not complete in the data: it was published on request before every table covered its last weeks, so its figures may change when the rest arrives.",
        "idx_lead_none": "No link between employee experience and turnover or customers is clear enough in this quarter's data to lead with; the executive summary shows what was measured.",
        "idx_actions_h": "If the links found are causal, the programmes worth most a year:",
        "idx_caveat": "Association, not proof of causation: the data are observational.",
        "cost_of_turnover": "Cost of turnover and lost customers",
        "programme_value": "Value of the headline programme",
        "kpi_note_headcount": "Employed when the quarter started.",
        "kpi_note_turnover": "In the quarter: {leavers} voluntary leavers / average headcount {avg}. About {annual} a year.",
        "kpi_note_early": "Of the {leavers} voluntary leavers, those who left within {days} days of hire or in the quarter they joined.",
        "kpi_note_nps": "From {responses} customer answers in the quarter.",
        "kpi_note_retention": "Customers of the previous quarter who came back in this one.",
        "kpi_note_cost": "In the quarter: replacing voluntary leavers {rep}; customers who did not come back {cust}.",
        "kpi_note_programme": "If the links found are causal: net value a year of “{scenario}” (median, P50).",
        "kpi_note_placeholder": "Net of an illustrative programme cost, not a quote: replace it with yours.",
        "kpi_note_conservative": "Conservative case (every assumption at its cautious end): {value}.",
        # notebook titles by number
        "nb_00": "Data quality",
        "nb_01": "Retention",
        "nb_02": "Customer loyalty",
        "nb_03": "The service-profit chain",
        "nb_04": "Money",
        "nb_05": "Executive summary",
        # axes and table headers
        "quarter": "Quarter",
        "date": "Date",
        "unit": "Unit",
        "unit_id": "Unit",
        "unit_name": "Unit",
        "region": "Region",
        "department": "Department",
        "role": "Role",
        "n": "n",
        "count": "Count",
        "employees": "Employees",
        "customers": "Customers",
        "share": "Share",
        "rate": "Rate",
        "value": "Value",
        "mean": "Mean",
        "median": "Median",
        "p10": "P10",
        "p50": "P50",
        "p90": "P90",
        "lower": "Lower",
        "upper": "Upper",
        "estimate": "Estimate",
        "effect": "Effect",
        "importance": "Importance",
        "driver": "Driver",
        "scenario": "Scenario",
        "probability": "Probability",
        "survival": "Still employed",
        "hazard": "Quarterly exit probability",
        "tenure_years": "Tenure (years)",
        "tenure_quarters": "Tenure (quarters)",
        "annual_salary": "Annual salary",
        "revenue": "Revenue",
        "recognition": "Recognition",
        "empowerment": "Empowerment",
        "leadership": "Leadership",
        "voluntary": "Voluntary",
        "involuntary": "Involuntary",
        "frontline": "Frontline",
        "support": "Support",
        "manager": "Manager",
        "touchpoint": "Touchpoint",
        "score": "Score",
        "from_department": "From",
        "to_department": "To",
        "promoters": "Promoters",
        "detractors": "Detractors",
        "passives": "Passives",
        "left": "Left",
        "stayed": "Stayed",
        "total": "Total",
        "cost": "Cost",
        "benefit": "Benefit",
        # money scenarios (finance.py names)
        "recognition_weekly": "Weekly recognition for everyone",
        "empowerment_plus_half": "+0.5 empowerment",
        "leadership_plus_half": "+0.5 leadership",
        "all_three": "All three together",
    },
    "es": {
        "app_name": "servicechain",
        "report_title": "Experiencia del empleado y la cadena de servicio-beneficio",
        "quarter_at_a_glance": "El trimestre de un vistazo",
        "detailed_reports": "Informes detallados",
        "generated": "Generado",
        "data_kind": "Datos",
        "data_kind_panel": "Historial de RR. HH. (panel)",
        "data_kind_snapshot": "Foto fija de RR. HH.",
        "vs_previous_quarter": "frente al trimestre anterior",
        "no_previous_quarter": "sin informe anterior",
        "vs_quarter": "frente a {q}",
        "no_clear_change": "sin cambio claro {vs} ({delta}, dentro del ruido de ±{noise})",
        "trend": "Tendencia",
        "not_available": "no disponible",
        "back_to_index": "Todos los informes",
        "table_scroll_hint": "Desliza hacia el lado para ver toda la tabla →",
        "chart_scroll_hint": "Desliza hacia el lado para ver todo el diagrama →",
        "language": "Idioma",
        "privacy_note": "Solo datos agregados. No se muestran grupos de menos de {threshold} personas.",
        "money_note": "Mediana (P50) del escenario «{scenario}».",
        "money_range": "Probablemente entre {lo} y {hi} (P10–P90).",
        "points": "p. p.",
        "notebook": "Informe",
        "status": "Estado",
        "status_ok": "completado",
        "headcount": "Plantilla",
        "voluntary_turnover": "Rotación voluntaria",
        "voluntary_turnover_rate": "Rotación voluntaria",
        "nps": "NPS",
        "customer_retention": "Retención de clientes",
        "customer_retention_rate": "Retención de clientes",
        "money_at_stake": "Dinero en juego",
        "early_leavers": "Bajas tempranas",
        "idx_lead_h": "El trimestre en breve",
        "idx_incomplete": "El {quarter} no está completo en los datos: se publicó a petición antes de que todas las tablas cubrieran sus últimas semanas, así que sus cifras pueden cambiar cuando llegue el resto.",
        "idx_lead_none": "En los datos de este trimestre ningún vínculo entre la experiencia del empleado y la rotación o los clientes es lo bastante claro como para destacarlo; el resumen ejecutivo muestra lo que se midió.",
        "idx_actions_h": "Si los vínculos hallados son causales, los programas que más valen al año:",
        "idx_caveat": "Asociación, no prueba de causalidad: los datos son observacionales.",
        "cost_of_turnover": "Coste de la rotación y de los clientes perdidos",
        "programme_value": "Valor del programa principal",
        "kpi_note_headcount": "Personas empleadas al empezar el trimestre.",
        "kpi_note_turnover": "En el trimestre: {leavers} bajas voluntarias / plantilla media de {avg}. Unos {annual} al año.",
        "kpi_note_early": "De las {leavers} bajas voluntarias, las de quienes se fueron en sus primeros {days} días o en el trimestre en que entraron.",
        "kpi_note_nps": "Con {responses} respuestas de clientes en el trimestre.",
        "kpi_note_retention": "Clientes del trimestre anterior que volvieron en este.",
        "kpi_note_cost": "En el trimestre: sustituir las bajas voluntarias {rep}; clientes que no volvieron {cust}.",
        "kpi_note_programme": "Si los vínculos hallados son causales: valor neto anual de «{scenario}» (mediana, P50).",
        "kpi_note_placeholder": "Descontado un coste del programa ilustrativo, no un presupuesto: sustitúyalo por el suyo.",
        "kpi_note_conservative": "Caso prudente (cada supuesto en su extremo cauto): {value}.",
        "nb_00": "Calidad de los datos",
        "nb_01": "Retención",
        "nb_02": "Lealtad de clientes",
        "nb_03": "La cadena de servicio-beneficio",
        "nb_04": "Dinero",
        "nb_05": "Resumen ejecutivo",
        "quarter": "Trimestre",
        "date": "Fecha",
        "unit": "Unidad",
        "unit_id": "Unidad",
        "unit_name": "Unidad",
        "region": "Región",
        "department": "Departamento",
        "role": "Puesto",
        "n": "n",
        "count": "Número",
        "employees": "Empleados",
        "customers": "Clientes",
        "share": "Proporción",
        "rate": "Tasa",
        "value": "Valor",
        "mean": "Media",
        "median": "Mediana",
        "p10": "P10",
        "p50": "P50",
        "p90": "P90",
        "lower": "Inferior",
        "upper": "Superior",
        "estimate": "Estimación",
        "effect": "Efecto",
        "importance": "Importancia",
        "driver": "Factor",
        "scenario": "Escenario",
        "probability": "Probabilidad",
        "survival": "Siguen en la empresa",
        "hazard": "Probabilidad trimestral de salida",
        "tenure_years": "Antigüedad (años)",
        "tenure_quarters": "Antigüedad (trimestres)",
        "annual_salary": "Salario anual",
        "revenue": "Ingresos",
        "recognition": "Reconocimiento",
        "empowerment": "Empoderamiento",
        "leadership": "Liderazgo",
        "voluntary": "Voluntaria",
        "involuntary": "Involuntaria",
        "frontline": "Primera línea",
        "support": "Soporte",
        "manager": "Mando",
        "touchpoint": "Punto de contacto",
        "score": "Puntuación",
        "from_department": "De",
        "to_department": "A",
        "promoters": "Promotores",
        "detractors": "Detractores",
        "passives": "Pasivos",
        "left": "Se fueron",
        "stayed": "Se quedaron",
        "total": "Total",
        "cost": "Coste",
        "benefit": "Beneficio",
        "recognition_weekly": "Reconocimiento semanal para todos",
        "empowerment_plus_half": "+0,5 en empoderamiento",
        "leadership_plus_half": "+0,5 en liderazgo",
        "all_three": "Las tres juntas",
    },
}

# --- retention (01) and customer loyalty (02) notebooks, shared chart words --------------------------
def _add_words(en: dict[str, str], es: dict[str, str]) -> None:
    """Merge one report's word block into the table; a word already defined keeps its first wording."""
    for lang, words in (("en", en), ("es", es)):
        for key, text in words.items():
            WORDS[lang].setdefault(key, text)


_RL_EN = {
    "recognition_per_month": "Recognition (per month)",
    "voluntary_turnover_pct": "Voluntary turnover (%)",
    "pooled": "Between and within units",
    "unit_fe": "Within units only (fixed effects)",
    "none": "None",
    "less than monthly": "Less than monthly",
    "monthly": "Monthly",
    "weekly or more": "Weekly or more",
    "rarely (1-2)": "Rarely (1-2)",
    "sometimes (3)": "Sometimes (3)",
    "often (4-5)": "Often (4-5)",
    "counter": "Counter",
    "phone": "Phone",
    "delivery": "Delivery",
    "web": "Web",
    "complaint": "Complaint",
    "job_satisfaction": "Job satisfaction",
    "environment_satisfaction": "Environment satisfaction",
    "relationship_satisfaction": "Relationship satisfaction",
    "engagement": "Engagement",
    "band": "Recognition",
    "item": "Item",
    "change_for": "For",
    "annual_exit_pp_ci": "Annual exit probability (95% CI)",
    "odds_ratio_ci": "Odds ratio (95% CI)",
    "retained_1y_ci": "Still employed at 1 year (95% CI)",
    "voluntary_exits": "Voluntary exits",
    "pooled_ci": "Between and within units (95% CI)",
    "unit_fe_ci": "Within units only (95% CI)",
    "mot_ci": "pp per +10 NPS points (95% CI)",
    "mean_nps": "Mean NPS",
    "responses": "Answers",
    "h_data_notes": "Data notes",
    "ret_unit_recognition_events": "+1 recognition per month",
    "ret_unit_recognition_item": "+1 point on the recognition item (1-5)",
    "ret_unit_point": "+1 point (1-5)",
    "ret_h_effects": "Voluntary exits and the three drivers",
    "ret_h_km": "Retention curves by recognition",
    "ret_h_oot": "Does the model predict a quarter it never saw?",
    "ret_h_snapshot": "Leavers and stayers",
    "ret_what": (
        "**What was estimated.** For every employee and quarter we asked one question: did this person leave "
        "voluntarily during the quarter? We related the answer to what the same person experienced the quarter "
        "*before*: how often they were recognised, how empowered they felt and how they rated their leadership, "
        "comparing people of the same tenure band and role in the same quarter (a discrete-time hazard model). "
        "The data: {n_obs:int} person-quarters, {n_events:int} voluntary exits, {n_people:int} people in "
        "{n_clusters:int} units, {q0:quarter} to {q1:quarter}. People in one unit share a manager and a local job "
        "market, so the uncertainty ranges allow for that (standard errors clustered by unit). These are "
        "associations, not proof of cause: people who are about to leave may already rate things lower."
    ),
    "ret_title_annual_sig": "More {driver} goes with fewer voluntary exits: {pp} in annual exit probability per +1",
    "ret_title_annual_none": "No driver shows a clear link with voluntary exits in this data",
    "ret_axis_annual": "Change in annual voluntary-exit probability (percentage points) for +1",
    "ret_annual_text": (
        "**Reading the chart.** Each dot is the change in the probability that an employee leaves voluntarily "
        "within a year if the driver were one unit higher, averaged over the current workforce; the whisker is the "
        "95% uncertainty range. +1 means one more recognition per month, or one more point on the 1-5 survey scale "
        "for empowerment and leadership, so the three sizes are not directly comparable. Ranges that do not cross "
        "zero are clear links. The money report turns these changes into euros."
    ),
    "ret_title_or": "Odds of a voluntary exit in a quarter per +1: {k} of {n} drivers clearly lower them",
    "ret_axis_or": "Odds ratio (log scale; below 1 = fewer exits)",
    "ret_or_text": (
        "Odds ratios are the model's own scale: 0.80 means that the odds of leaving in a quarter are 20% lower "
        "per +1 of the driver, with the other drivers, tenure, role and quarter held constant."
    ),
    "ret_title_km": "Recognition {hi_band}: {hi} still employed after one year of tenure; {lo_band}: {lo}",
    "ret_title_km_plain": "Share still employed by tenure and recognition",
    "ret_axis_tenure": "Tenure (years)",
    "ret_axis_still": "Still employed",
    "ret_km_text": (
        "**Retention curves** (Kaplan-Meier) follow people through their tenure, grouped by how often they were "
        "recognised in the quarter before we start following them; later recognitions do not change a person's "
        "group, so people who leave early are not put in the less recognised groups for that reason alone. Shaded bands are 95% confidence intervals; a "
        "curve stops where fewer than {threshold:int} people remain, and groups smaller than that are not shown. "
        "These curves are descriptive: unlike the model above, they do not hold empowerment, leadership, role or "
        "tenure constant."
    ),
    "ret_km_item_text": (
        "Recognition here comes from the survey item (1-5), not from recognition events, so the groups are "
        "answer levels."
    ),
    "ret_title_oot": "Tested on {test_q}, a quarter the model never saw: it ranks leavers above stayers {auc} of the time",
    "ret_axis_pred": "Predicted quarterly exit probability",
    "ret_axis_obs": "Observed exit rate",
    "ret_diagonal": "Perfect calibration",
    "ret_oot_text": (
        "**Out-of-time check.** The model was fitted on {q0:quarter} to {q1:quarter} only and then predicted who "
        "would leave in {test_q:quarter} ({n_test:int} people at risk, {events_test:int} voluntary exits). AUC "
        "{auc:num2} (0.5 = a coin toss, 1 = a perfect ranking). Brier score {brier:num4} against {base:num4} for "
        "predicting the same rate for everyone: {verdict} Each dot groups about a tenth of the people by predicted "
        "risk; dots near the diagonal mean predicted rates match what happened. This checks usefulness for "
        "prediction, not cause and effect."
    ),
    "ret_oot_better": "the model's predictions are more accurate than that flat guess.",
    "ret_oot_worse": "the model does not beat that flat guess here, so use its effects with care.",
    "ret_population": (
        "**Who the model counts.** In {quarter:quarter}, {risk:int} people had been on the payroll for the whole "
        "previous quarter (the model's population) and {risk_events:int} of them left voluntarily. The quarter's "
        "headline turnover counts all {leavers:int} voluntary leavers: {from_start:int} who were here when the "
        "quarter started and {joined:int} who joined and left within it. Recent hires have no earlier quarter to "
        "relate to, so the model leaves them out."
    ),
    "ret_notes": (
        "{n_obs:int} person-quarters with a survey answer in the previous quarter ({n_people:int} people), "
        "{n_events:int} voluntary exits, {n_clusters:int} units (clusters), outcome quarters {q0:quarter} to "
        "{q1:quarter}. Involuntary exits count as \"did not leave voluntarily\" and the person then leaves the data. "
        "Recognition: {source}. People without a survey answer in the previous quarter are not in the model. "
        "Groups smaller than {threshold:int} people are not shown."
    ),
    "ret_source_events": "recognition events received in the previous quarter, per month",
    "ret_source_item": "the survey's recognition item (1-5), because there is no table of recognition events",
    # early attrition (issue 12)
    "ret_nonresponse": (
        "People without last quarter's answer ({share:pct} of the person-quarters at risk) are left out of the model "
        "above. Compared with respondents who had the same recognition, tenure, role and quarter, their odds of "
        "leaving were {or_:num2} times as high (95% CI {lo:num2} to {hi:num2}): {verdict}"
    ),
    "ret_nonresponse_clear": (
        "not answering goes with a different exit rate, so the money's estimate, which gives them their unit's "
        "average answers, is less certain than its range shows."
    ),
    "ret_nonresponse_none": "no clear difference, so giving them their unit's average answers in the money is reasonable.",
    "ret_h_early": "Early attrition: the first 90 days of new hires",
    "ret_early_too_few": (
        "Too few people were hired in the data's quarters and have completed their first {days:int} days to study "
        "early attrition here (at least 50 still employed on day 30 and 10 early exits are needed)."
    ),
    "ret_early_what": (
        "**Who leaves early.** Of {hires:int} people hired from {q0:quarter} whose first {days:int} days are over, "
        "{early:int} ({rate:pct}) left voluntarily within {days:int} days of hire or in the quarter they joined (the "
        "same early leavers as the quarter-at-a-glance card); of {hires2q:int} followed for two quarters, {left2q:int} "
        "({rate2q:pct}) left voluntarily in their hire quarter or the next. The model above starts after a full "
        "quarter on the payroll, so it does not see them. Here a second model (a logistic regression, standard "
        "errors clustered by unit) relates leaving early to what was known by day {landmark:int}: an onboarding "
        "training in the first {landmark:int} days, a first recognition in the first {landmark:int} days, and how "
        "the manager's team rated their leadership the quarter before. It counts the {n_obs:int} hires still employed "
        "on day {landmark:int} ({n_events:int} of them left early), so a person who left in their first days is not "
        "counted as \"never recognised\" for that reason; {missing:int} whose manager's team gave no answer keep an "
        "indicator of that. Associations, not proof of cause."
    ),
    "ret_title_early_or": "Odds of leaving in the first 90 days, per factor known by day 30: {k} of {n} clearly lower them",
    "ret_early_units": (
        "Units with the highest early-leaver rate (hires whose first {days:int} days are over). Units with fewer than "
        "{threshold:int} such hires are hidden, with one more where needed so a hidden unit cannot be worked out."
    ),
    "onboarding_training": "Onboarding training in the first 30 days",
    "recognition_30d": "Recognised in the first 30 days",
    "leadership_team_mean": "Manager's team leadership rating (1-5)",
    "ea_unit": "Unit",
    "ea_factor": "Known by day 30",
    "ea_level": "Group",
    "ea_hires": "Hires",
    "ea_early_leavers": "Early leavers",
    "ea_early_rate": "Early-leaver rate",
    "ea_level_0": "No",
    "ea_level_1": "Yes",
    "ea_level_below_3": "below 3",
    "ea_level_3_to_4": "3 to 4",
    "ea_level_4_or_more": "4 or more",
    "ea_level_no_answer": "no answer",
    "ret_snap_what": (
        "**What was estimated.** This data is a snapshot: one row per employee, with a flag for whether the person "
        "left. We compared leavers and stayers on the satisfaction items, holding tenure constant (a logistic "
        "regression with robust standard errors). {n:int} employees, {n_left:int} of whom left."
    ),
    "ret_title_snap_sig": "Higher {item} goes with fewer leavers: odds of having left {or_} per point",
    "ret_title_snap_none": "No satisfaction item clearly separates leavers from stayers",
    "ret_axis_or_snap": "Odds ratio of having left, per point (log scale; below 1 = fewer leavers)",
    "ret_snap_limits_head": "What snapshot data cannot show",
    "ret_snapshot_limit_0": "One row per employee: no dates, so no hazard over time and no out-of-time validation.",
    "ret_snapshot_limit_1": (
        "Satisfaction was measured at the same time as (or after) leaving: association only, and reverse "
        "causation (people about to leave rate things lower) cannot be ruled out."
    ),
    "ret_snapshot_limit_2": "No units or customers: nothing can be said about customer loyalty or money from customers.",
    "ret_snap_more": (
        "With an HR history (hire and exit dates and quarterly surveys) this report estimates the change in annual "
        "exit probability per driver, retention curves and an out-of-time check."
    ),
    "loy_h_nps": "NPS",
    "loy_h_cr": "Customer retention",
    "loy_h_mot": "Moments of truth",
    "loy_what": (
        "**What was estimated.** For each unit and quarter we related the unit's customer outcomes to its employee "
        "experience in the *previous* quarter: mean recognitions per employee per month, mean empowerment and "
        "leadership answers (1-5) and voluntary turnover (% of headcount). Two outcomes: NPS (-100 to 100) and "
        "customer retention (the share of last quarter's customers who came back). The models compare units within "
        "the same quarter (quarter effects) and allow for repeated measures of one unit (errors clustered by unit). "
        "{n_obs:int} unit-quarters from {n_units:int} units. Association, not causation."
    ),
    "loy_specs": (
        "**Two ways to look.** *Between and within units* uses every difference, including stable ones between "
        "units (a busy central store against a quiet remote one). *Within units only* (unit fixed effects) uses only "
        "the changes inside each unit over time, so stable differences in location or clientele cannot explain it; "
        "it is less precise. When both agree, the link is not only \"good units are good at everything\"."
    ),
    "loy_title_nps_sig": "Units whose people had more {driver} last quarter have higher NPS: {est} points per +1",
    "loy_title_nps_none": "No employee-experience driver shows a clear link with next quarter's NPS",
    "loy_axis_nps": "NPS points per +1 of the unit's previous-quarter value",
    "loy_title_cr_sig": "More {driver} last quarter goes with more customers coming back: {est} per +1",
    "loy_title_cr_none": "No employee-experience driver shows a clear link with next quarter's customer retention",
    "loy_axis_cr": "Customer retention (percentage points) per +1 of the unit's previous-quarter value",
    "loy_diff_none": (
        "**Do the two views differ?** Not clearly, for any of the {n:int} drivers: a test of the difference between "
        "the between-unit and the within-unit estimates that allows for repeated measures of each unit finds none "
        "at the 5% level. That is not proof that they agree: only large differences would show."
    ),
    "loy_diff_some": (
        "**Do the two views differ?** For {which}, yes: a test of the difference that allows for repeated measures "
        "of each unit finds it at the 5% level, so stable differences between units may be behind that link; read it "
        "with more care. For the other {k:int} of {n:int} drivers no clear difference was found."
    ),
    "loy_fe_imprecise": "The within-unit ranges are wider; {k_fe:int} of {n:int} of them include zero.",
    "loy_title_binned": "NPS by last quarter's unit {driver}: {lo} in the lowest fifth, {hi} in the highest",
    "loy_axis_binned_x": "Unit's previous-quarter {driver} (mean of each fifth)",
    "loy_binned_text": (
        "Unit-quarters grouped into fifths by the driver; dots are mean NPS with 95% ranges. Only unit-quarters "
        "whose driver rests on at least {threshold:int} survey respondents count. Descriptive: the other drivers are "
        "not held constant here."
    ),
    "loy_title_mot_sig": "{tp} is the moment of truth: +10 NPS points there go with {est} customer retention",
    "loy_title_mot_none": "No touchpoint's satisfaction clearly moves customer retention; {tp} ranks first",
    "loy_axis_mot": "Customer retention (percentage points) per +10 NPS points at the touchpoint",
    "loy_mot_text": (
        "**Moments of truth.** For each touchpoint: customer retention in a quarter on that touchpoint's NPS in "
        "the same quarter, holding the unit's employee experience and the quarter constant. This is the weakest "
        "design in this report: satisfaction and retention are measured at the same time, and customers who are "
        "leaving anyway may rate every touchpoint lower. Read it as a ranking of where satisfaction and loyalty "
        "move together, not as an effect. Touchpoint-quarters with fewer than {threshold:int} answers are left out."
    ),
    "loy_no_touchpoint": "The customer feedback has no touchpoint column, so moments of truth cannot be ranked.",
    "loy_notes": (
        "NPS model: {n_obs:int} unit-quarters from {n_units:int} units (a unit-quarter needs at least 5 NPS answers). "
        "Customer-retention model: {n_obs_cr:int} unit-quarters (at least 10 customers in the quarter before). "
        "Unit means rest on each unit's survey respondents; groups smaller than {threshold:int} people are not shown "
        "in any chart."
    ),
    "loy_snapshot": (
        "**Snapshot data has no customers.** This report relates units' employee experience to their customers' "
        "NPS and retention over time. A one-row-per-employee HR snapshot has neither units over time nor customers, "
        "so there is nothing to estimate here. The retention report shows what a snapshot can."
    ),
}
_RL_ES = {
    "recognition_per_month": "Reconocimientos (al mes)",
    "voluntary_turnover_pct": "Rotación voluntaria (%)",
    "pooled": "Entre y dentro de unidades",
    "unit_fe": "Solo dentro de cada unidad (efectos fijos)",
    "none": "Ninguno",
    "less than monthly": "Menos de uno al mes",
    "monthly": "Mensual",
    "weekly or more": "Semanal o más",
    "rarely (1-2)": "Rara vez (1-2)",
    "sometimes (3)": "A veces (3)",
    "often (4-5)": "A menudo (4-5)",
    "counter": "Mostrador",
    "phone": "Teléfono",
    "delivery": "Entrega",
    "web": "Web",
    "complaint": "Reclamación",
    "job_satisfaction": "Satisfacción con el trabajo",
    "environment_satisfaction": "Satisfacción con el entorno",
    "relationship_satisfaction": "Satisfacción con las relaciones",
    "engagement": "Compromiso",
    "band": "Reconocimiento",
    "item": "Pregunta",
    "change_for": "Por",
    "annual_exit_pp_ci": "Probabilidad anual de salida (IC 95 %)",
    "odds_ratio_ci": "Razón de momios (IC 95 %)",
    "retained_1y_ci": "Siguen al año (IC 95 %)",
    "voluntary_exits": "Salidas voluntarias",
    "pooled_ci": "Entre y dentro de unidades (IC 95 %)",
    "unit_fe_ci": "Solo dentro de cada unidad (IC 95 %)",
    "mot_ci": "p. p. por +10 puntos de NPS (IC 95 %)",
    "mean_nps": "NPS medio",
    "responses": "Respuestas",
    "h_data_notes": "Notas sobre los datos",
    "ret_unit_recognition_events": "+1 reconocimiento al mes",
    "ret_unit_recognition_item": "+1 punto en la pregunta de reconocimiento (1-5)",
    "ret_unit_point": "+1 punto (1-5)",
    "ret_h_effects": "Las salidas voluntarias y los tres factores",
    "ret_h_km": "Curvas de permanencia según el reconocimiento",
    "ret_h_oot": "¿Predice el modelo un trimestre que nunca vio?",
    "ret_h_snapshot": "Quienes se fueron y quienes se quedaron",
    "ret_what": (
        "**Qué se ha estimado.** Para cada empleado y trimestre nos hicimos una pregunta: ¿dejó esta persona la "
        "empresa voluntariamente durante el trimestre? Relacionamos la respuesta con lo que esa misma persona vivió "
        "el trimestre *anterior*: con qué frecuencia fue reconocida, cuánto margen de decisión sintió tener y cómo "
        "valoró a su liderazgo, comparando personas con la misma antigüedad y el mismo rol en el mismo trimestre "
        "(un modelo de riesgo en tiempo discreto). Los datos: {n_obs:int} persona-trimestres, {n_events:int} salidas "
        "voluntarias, {n_people:int} personas en {n_clusters:int} unidades, de {q0:quarter} a {q1:quarter}. Quienes "
        "trabajan en una misma unidad comparten jefe y mercado laboral local, y los márgenes de incertidumbre lo "
        "tienen en cuenta (errores agrupados por unidad). Son asociaciones, no prueba de causa: quien está a punto "
        "de irse puede valorar ya todo peor."
    ),
    "ret_title_annual_sig": "Más {driver} va con menos salidas voluntarias: {pp} de probabilidad anual de salida por +1",
    "ret_title_annual_none": "Ningún factor muestra una relación clara con las salidas voluntarias en estos datos",
    "ret_axis_annual": "Cambio en la probabilidad anual de salida voluntaria (puntos porcentuales) por +1",
    "ret_annual_text": (
        "**Cómo leer el gráfico.** Cada punto es el cambio en la probabilidad de que un empleado se vaya "
        "voluntariamente en un año si el factor fuera una unidad mayor, en promedio sobre la plantilla actual; la "
        "barra es el margen de incertidumbre del 95 %. +1 significa un reconocimiento más al mes, o un punto más en "
        "la escala 1-5 de la encuesta para empoderamiento y liderazgo, así que los tres tamaños no se comparan "
        "directamente. Los márgenes que no cruzan el cero son relaciones claras. El informe de dinero traduce estos "
        "cambios a euros."
    ),
    "ret_title_or": "Momios de una salida voluntaria en un trimestre por +1: {k} de {n} factores los reducen con claridad",
    "ret_axis_or": "Razón de momios (escala logarítmica; menos de 1 = menos salidas)",
    "ret_or_text": (
        "La razón de momios es la escala propia del modelo: 0,80 significa que los momios de irse en un trimestre "
        "son un 20 % menores por cada +1 del factor, manteniendo constantes los demás factores, la antigüedad, el "
        "rol y el trimestre."
    ),
    "ret_title_km": "Reconocimiento {hi_band}: {hi} siguen en la empresa al año de antigüedad; {lo_band}: {lo}",
    "ret_title_km_plain": "Proporción que sigue en la empresa según antigüedad y reconocimiento",
    "ret_axis_tenure": "Antigüedad (años)",
    "ret_axis_still": "Siguen en la empresa",
    "ret_km_text": (
        "**Las curvas de permanencia** (Kaplan-Meier) siguen a las personas a lo largo de su antigüedad, agrupadas "
        "según la frecuencia con la que fueron reconocidas en el trimestre anterior a empezar a seguirlas; los "
        "reconocimientos posteriores no cambian su grupo, así que quien se va pronto no cae en los grupos menos "
        "reconocidos solo por eso. Las bandas sombreadas "
        "son intervalos de confianza del 95 %; una curva se corta cuando quedan menos de {threshold:int} personas, y "
        "los grupos más pequeños no se muestran. Son curvas descriptivas: a diferencia del modelo anterior, no "
        "mantienen constantes el empoderamiento, el liderazgo, el rol ni la antigüedad."
    ),
    "ret_km_item_text": (
        "Aquí el reconocimiento viene de la pregunta de la encuesta (1-5), no de eventos de reconocimiento, así que "
        "los grupos son niveles de respuesta."
    ),
    "ret_title_oot": "Probado en {test_q}, un trimestre que el modelo nunca vio: ordena a quienes se van por encima de quienes se quedan el {auc} de las veces",
    "ret_axis_pred": "Probabilidad trimestral de salida prevista",
    "ret_axis_obs": "Tasa de salida observada",
    "ret_diagonal": "Calibración perfecta",
    "ret_oot_text": (
        "**Prueba fuera de tiempo.** El modelo se ajustó solo con {q0:quarter} a {q1:quarter} y después predijo "
        "quién se iría en {test_q:quarter} ({n_test:int} personas en riesgo, {events_test:int} salidas voluntarias). "
        "AUC {auc:num2} (0,5 = lanzar una moneda, 1 = un orden perfecto). Puntuación de Brier {brier:num4} frente a "
        "{base:num4} si se predijera la misma tasa para todos: {verdict} Cada punto agrupa a una décima parte de las "
        "personas según el riesgo previsto; los puntos cerca de la diagonal indican que las tasas previstas "
        "coinciden con lo ocurrido. Esto comprueba la utilidad para predecir, no la causa y el efecto."
    ),
    "ret_oot_better": "las predicciones del modelo son más precisas que esa estimación plana.",
    "ret_oot_worse": "aquí el modelo no mejora esa estimación plana, así que conviene usar sus efectos con cautela.",
    "ret_population": (
        "**A quién cuenta el modelo.** En {quarter:quarter}, {risk:int} personas llevaban en plantilla todo el "
        "trimestre anterior (la población del modelo) y {risk_events:int} de ellas se fueron voluntariamente. La "
        "rotación principal del trimestre cuenta las {leavers:int} bajas voluntarias: {from_start:int} de quienes ya "
        "estaban al empezar el trimestre y {joined:int} de quienes entraron y se fueron dentro de él. Las "
        "incorporaciones recientes no tienen un trimestre anterior con el que relacionarse, así que el modelo no las incluye."
    ),
    "ret_notes": (
        "{n_obs:int} persona-trimestres con respuesta a la encuesta en el trimestre anterior ({n_people:int} "
        "personas), {n_events:int} salidas voluntarias, {n_clusters:int} unidades (grupos), trimestres de resultado "
        "de {q0:quarter} a {q1:quarter}. Las salidas involuntarias cuentan como \"no se fue voluntariamente\" y la "
        "persona sale después de los datos. Reconocimiento: {source}. Quien no respondió la encuesta el trimestre "
        "anterior no entra en el modelo. No se muestran grupos de menos de {threshold:int} personas."
    ),
    "ret_source_events": "eventos de reconocimiento recibidos en el trimestre anterior, al mes",
    "ret_source_item": "la pregunta de reconocimiento de la encuesta (1-5), porque no hay tabla de eventos de reconocimiento",
    # bajas tempranas (issue 12)
    "ret_nonresponse": (
        "Las personas sin respuesta el trimestre anterior ({share:pct} de los trimestres-persona en riesgo) quedan "
        "fuera del modelo anterior. Frente a quienes respondieron con el mismo reconocimiento, antigüedad, puesto y "
        "trimestre, su probabilidad relativa de irse fue {or_:num2} veces la de ellos (IC 95 % de {lo:num2} a "
        "{hi:num2}): {verdict}"
    ),
    "ret_nonresponse_clear": (
        "no responder va con una tasa de bajas distinta, así que la estimación económica, que les asigna las "
        "respuestas medias de su unidad, es menos segura de lo que muestra su rango."
    ),
    "ret_nonresponse_none": "sin diferencia clara, así que asignarles en la estimación económica las respuestas medias de su unidad es razonable.",
    "ret_h_early": "Bajas tempranas: los primeros 90 días de las nuevas incorporaciones",
    "ret_early_too_few": (
        "Hay demasiado pocas personas contratadas en los trimestres de los datos que ya cumplieron sus primeros "
        "{days:int} días para estudiar aquí las bajas tempranas (hacen falta al menos 50 que sigan el día 30 y 10 "
        "bajas tempranas)."
    ),
    "ret_early_what": (
        "**Quién se va pronto.** De {hires:int} personas contratadas desde {q0:quarter} que ya cumplieron sus primeros "
        "{days:int} días, {early:int} ({rate:pct}) se fueron voluntariamente en sus primeros {days:int} días o en el "
        "trimestre en que entraron (las mismas bajas tempranas de la tarjeta del trimestre); de {hires2q:int} seguidas "
        "dos trimestres, {left2q:int} ({rate2q:pct}) se fueron voluntariamente en su trimestre de entrada o en el "
        "siguiente. El modelo anterior empieza tras un trimestre completo en plantilla, así que no las ve. Aquí un "
        "segundo modelo (una regresión logística, errores agrupados por unidad) relaciona irse pronto con lo que se "
        "sabía el día {landmark:int}: una formación de bienvenida en los primeros {landmark:int} días, un primer "
        "reconocimiento en los primeros {landmark:int} días y cómo valoró el equipo del responsable su liderazgo el "
        "trimestre anterior. Cuenta las {n_obs:int} incorporaciones que seguían el día {landmark:int} ({n_events:int} "
        "de ellas se fueron pronto), para que quien se fue en sus primeros días no cuente como \"nunca reconocido\" "
        "por esa razón; {missing:int} cuyo equipo no respondió llevan un indicador de ello. Asociaciones, no prueba "
        "de causa."
    ),
    "ret_title_early_or": "Probabilidad de irse en los primeros 90 días, por factor conocido el día 30: {k} de {n} la reducen con claridad",
    "ret_early_units": (
        "Unidades con la mayor tasa de bajas tempranas (incorporaciones que ya cumplieron sus primeros {days:int} "
        "días). Se ocultan las unidades con menos de {threshold:int} incorporaciones así, y una más cuando hace falta "
        "para que no se pueda deducir la oculta."
    ),
    "onboarding_training": "Formación de bienvenida en los primeros 30 días",
    "recognition_30d": "Reconocimiento en los primeros 30 días",
    "leadership_team_mean": "Valoración del liderazgo por el equipo del responsable (1-5)",
    "ea_unit": "Unidad",
    "ea_factor": "Conocido el día 30",
    "ea_level": "Grupo",
    "ea_hires": "Incorporaciones",
    "ea_early_leavers": "Bajas tempranas",
    "ea_early_rate": "Tasa de bajas tempranas",
    "ea_level_0": "No",
    "ea_level_1": "Sí",
    "ea_level_below_3": "menos de 3",
    "ea_level_3_to_4": "de 3 a 4",
    "ea_level_4_or_more": "4 o más",
    "ea_level_no_answer": "sin respuesta",
    "ret_snap_what": (
        "**Qué se ha estimado.** Estos datos son una foto fija: una fila por empleado, con una marca de si la "
        "persona se fue. Comparamos a quienes se fueron y a quienes se quedaron en las preguntas de satisfacción, "
        "manteniendo constante la antigüedad (una regresión logística con errores robustos). {n:int} empleados, "
        "{n_left:int} de los cuales se fueron."
    ),
    "ret_title_snap_sig": "Más {item} va con menos salidas: momios de haberse ido {or_} por punto",
    "ret_title_snap_none": "Ninguna pregunta de satisfacción separa con claridad a quienes se fueron de quienes se quedaron",
    "ret_axis_or_snap": "Razón de momios de haberse ido, por punto (escala logarítmica; menos de 1 = menos salidas)",
    "ret_snap_limits_head": "Lo que una foto fija no puede mostrar",
    "ret_snapshot_limit_0": "Una fila por empleado: sin fechas no hay riesgo a lo largo del tiempo ni prueba fuera de tiempo.",
    "ret_snapshot_limit_1": (
        "La satisfacción se midió a la vez que la salida (o después): solo asociación, y no se puede descartar la "
        "causalidad inversa (quien está a punto de irse valora todo peor)."
    ),
    "ret_snapshot_limit_2": "Sin unidades ni clientes: no se puede decir nada de la lealtad de los clientes ni del dinero que aportan.",
    "ret_snap_more": (
        "Con un historial de RR. HH. (fechas de alta y baja y encuestas trimestrales) este informe estima el cambio "
        "en la probabilidad anual de salida por factor, curvas de permanencia y una prueba fuera de tiempo."
    ),
    "loy_h_nps": "NPS",
    "loy_h_cr": "Retención de clientes",
    "loy_h_mot": "Momentos de la verdad",
    "loy_what": (
        "**Qué se ha estimado.** Para cada unidad y trimestre relacionamos los resultados con clientes de la unidad "
        "con la experiencia de sus empleados en el trimestre *anterior*: reconocimientos medios por empleado y mes, "
        "respuestas medias de empoderamiento y liderazgo (1-5) y rotación voluntaria (% de la plantilla). Dos "
        "resultados: el NPS (-100 a 100) y la retención de clientes (la proporción de clientes del trimestre "
        "anterior que volvieron). Los modelos comparan unidades dentro del mismo trimestre (efectos de trimestre) y "
        "tienen en cuenta que cada unidad se mide varias veces (errores agrupados por unidad). {n_obs:int} "
        "unidad-trimestres de {n_units:int} unidades. Asociación, no causalidad."
    ),
    "loy_specs": (
        "**Dos maneras de mirar.** *Entre y dentro de unidades* usa todas las diferencias, también las estables entre "
        "unidades (una tienda céntrica con mucho público frente a una apartada). *Solo dentro de cada unidad* "
        "(efectos fijos) usa únicamente los cambios de cada unidad a lo largo del tiempo, así que las diferencias "
        "estables de ubicación o clientela no pueden explicarlo; es menos preciso. Cuando ambas coinciden, la "
        "relación no es solo que \"las buenas unidades son buenas en todo\"."
    ),
    "loy_title_nps_sig": "Las unidades cuyo personal tuvo más {driver} el trimestre anterior tienen mayor NPS: {est} puntos por +1",
    "loy_title_nps_none": "Ningún factor de la experiencia del empleado muestra una relación clara con el NPS del trimestre siguiente",
    "loy_axis_nps": "Puntos de NPS por +1 del valor de la unidad en el trimestre anterior",
    "loy_title_cr_sig": "Más {driver} el trimestre anterior va con más clientes que vuelven: {est} por +1",
    "loy_title_cr_none": "Ningún factor de la experiencia del empleado muestra una relación clara con la retención de clientes del trimestre siguiente",
    "loy_axis_cr": "Retención de clientes (puntos porcentuales) por +1 del valor de la unidad en el trimestre anterior",
    "loy_diff_none": (
        "**¿Difieren las dos maneras de mirar?** No con claridad, en ninguno de los {n:int} factores: una prueba de "
        "la diferencia entre la estimación entre unidades y la de dentro de cada unidad, que tiene en cuenta que cada "
        "unidad se mide varias veces, no encuentra ninguna al nivel del 5 %. Eso no demuestra que coincidan: solo se "
        "verían diferencias grandes."
    ),
    "loy_diff_some": (
        "**¿Difieren las dos maneras de mirar?** En {which}, sí: una prueba de la diferencia que tiene en cuenta que "
        "cada unidad se mide varias veces la encuentra al nivel del 5 %, así que detrás de esa relación pueden estar "
        "diferencias estables entre unidades; conviene leerla con más cautela. En los otros {k:int} de {n:int} "
        "factores no se encontró una diferencia clara."
    ),
    "loy_fe_imprecise": "Los márgenes dentro de cada unidad son más amplios; {k_fe:int} de {n:int} incluyen el cero.",
    "loy_title_binned": "NPS según {driver} de la unidad el trimestre anterior: {lo} en el quinto más bajo, {hi} en el más alto",
    "loy_axis_binned_x": "Nivel de {driver} de la unidad el trimestre anterior (media de cada quinto)",
    "loy_binned_text": (
        "Unidad-trimestres agrupados en quintos según el factor; los puntos son el NPS medio con márgenes del 95 %. "
        "Solo cuentan las unidad-trimestres cuyo factor se basa en al menos {threshold:int} personas encuestadas. "
        "Descriptivo: aquí no se mantienen constantes los demás factores."
    ),
    "loy_title_mot_sig": "{tp} es el momento de la verdad: +10 puntos de NPS ahí van con {est} de retención de clientes",
    "loy_title_mot_none": "La satisfacción de ningún punto de contacto mueve con claridad la retención de clientes; {tp} es el primero",
    "loy_axis_mot": "Retención de clientes (puntos porcentuales) por +10 puntos de NPS en el punto de contacto",
    "loy_mot_text": (
        "**Momentos de la verdad.** Para cada punto de contacto: la retención de clientes de un trimestre frente al "
        "NPS de ese punto de contacto en el mismo trimestre, manteniendo constantes la experiencia de los empleados "
        "de la unidad y el trimestre. Es el diseño más débil de este informe: satisfacción y retención se miden a la "
        "vez, y los clientes que se van a ir de todos modos pueden valorar peor todos los puntos de contacto. Léalo "
        "como un orden de dónde se mueven juntas la satisfacción y la lealtad, no como un efecto. Se excluyen los "
        "punto-de-contacto-trimestres con menos de {threshold:int} respuestas."
    ),
    "loy_no_touchpoint": "Las opiniones de clientes no tienen columna de punto de contacto, así que no se pueden ordenar los momentos de la verdad.",
    "loy_notes": (
        "Modelo de NPS: {n_obs:int} unidad-trimestres de {n_units:int} unidades (cada unidad-trimestre necesita al "
        "menos 5 respuestas de NPS). Modelo de retención de clientes: {n_obs_cr:int} unidad-trimestres (al menos 10 "
        "clientes el trimestre anterior). Las medias de unidad se basan en las personas encuestadas de cada unidad; "
        "no se muestran en ningún gráfico grupos de menos de {threshold:int} personas."
    ),
    "loy_snapshot": (
        "**Una foto fija no tiene clientes.** Este informe relaciona la experiencia de los empleados de cada unidad "
        "con el NPS y la retención de sus clientes a lo largo del tiempo. Una foto fija de RR. HH. con una fila por "
        "empleado no tiene ni unidades a lo largo del tiempo ni clientes, así que aquí no hay nada que estimar. El "
        "informe de retención muestra lo que sí permite una foto fija."
    ),
}
_add_words(_RL_EN, _RL_ES)

# --- the service-profit chain notebook (03) ------------------------------------------------------------
_CHAIN_EN = {
    "internal_service": "Internal service",
    "chain_est_ci": "{est} ({lo} to {hi})",
    "chain_node_ex": "<b>Employee experience</b><br>index, quarter q−2",
    "chain_node_voluntary_turnover_pct": "<b>Voluntary turnover</b><br>%, quarter q−1",
    "chain_node_engagement": "<b>Engagement</b><br>mean 1–5, quarter q−1",
    "chain_node_outcome": "<b>{outcome}</b><br>quarter q",
    "chain_path_indirect": "Indirect link to {outcome} (a × b): {ci} per standard deviation of the index",
    "chain_path_note": "Numbers: estimate (95% bootstrap interval). Dark arrows: the interval excludes zero; grey: it does not. "
                       "Association, not causation.",
    "chain_path_title": "The chain: employee experience, turnover and customer loyalty",
    "chain_title_path_pos": "Part of the link between employee experience and {outcomes} runs through lower turnover",
    "chain_title_path_none": "No clear link from employee experience to {outcomes} through turnover",
    "chain_title_path_neg": "Through turnover, better employee experience goes with lower {outcomes}",
    "chain_and": "and",
    "chain_importance_title_plain": "What goes with each outcome: share of the explained variation",
    "chain_importance_title": "{driver} carries the most weight for customer loyalty; {driver_t} for turnover",
    "chain_share_of_r2": "Share of the explained variation (R²)",
    "chain_eng_title": "{driver} goes with engagement more than any other answer",
    "chain_q_fix_first": "Fix first",
    "chain_q_maintain": "Maintain",
    "chain_q_secondary": "Secondary",
    "chain_q_monitor": "Monitor",
    "chain_importance_short": "importance",
    "chain_current_score": "score",
    "chain_current_score_axis": "Mean answer this quarter (1–5)",
    "chain_importance_axis": "Importance (mean share across outcomes)",
    "chain_quadrant_title_plain": "Importance and current score",
    "chain_quadrant_title_fix": "Fix first: {drivers} (important, and scored below the other drivers)",
    "chain_quadrant_title_none": "No driver is both important and scored below the others this quarter",
    "chain_suppressed": "suppressed (< {threshold} respondents)",
    "chain_respondents_n": "{n} respondents",
    "chain_mean_answer": "Mean (1–5)",
    "chain_blank_cells": "Blank cells: suppressed (< {threshold} respondents, or hidden so that a small group cannot be "
                         "worked out from a total).",
    "chain_heat_title_region": "{region} scores lowest in {quarter}, {gap} points below the other regions on a 1–5 scale; {driver_low} is the lowest-scored driver overall",
    "chain_heat_title_no_region": "No region stands out in {quarter}: their gaps are within the noise; {driver_low} is the lowest-scored driver overall",
    "chain_heat_title_units": "The {n} units with the lowest scores in {quarter}",
    "chain_heat_title_none": "Mean answers by region in {quarter}",
    "chain_col_chain": "Chain",
    "chain_col_outcome": "Outcome",
    "chain_col_driver": "Driver",
    "chain_col_r2_share": "Share of the explained R²",
    "chain_col_rank": "Rank",
    "chain_col_rank_held": "Resamples with the same rank",
    "chain_rank_held": "rank {rank} in {pct} of resamples",
    "chain_col_a": "EX → mediator (a)",
    "chain_col_b": "Mediator → outcome (b)",
    "chain_col_indirect": "Indirect (a × b)",
    "chain_col_direct": "Direct (c′)",
    "chain_col_total": "Total",
    "chain_col_share": "Share through the mediator",
    "chain_col_n": "Unit-quarters",
    "chain_col_units": "Units",
    "chain_col_driver": "Driver",
    "chain_col_quadrant": "Quadrant",
    "chain_col_importance": "Importance",
    "chain_col_score": "Mean answer (1–5)",
    "chain_via_voluntary_turnover_pct": "via turnover",
    "chain_via_engagement": "via engagement",
    "chain_h_path": "From employee experience to customer loyalty",
    "chain_h_drivers": "Which drivers matter most",
    "chain_h_fix": "What to fix first",
    "chain_h_heat": "Where: driver scores by region and unit",
    "chain_h_method": "How to read this report",
    "chain_intro": (
        "The service-profit chain says that how people are treated at work (recognition, empowerment, leadership) "
        "shapes whether they stay, and that teams who stay serve customers better, who then come back and recommend "
        "the company. This report checks that chain in our own data, unit by unit and quarter by quarter. "
        "Everything here is **association, not causation**: units that differ in employee experience also differ "
        "in other ways we cannot see."
    ),
    "chain_path_md": (
        "Each arrow is one link, estimated on **{n} unit-quarters from {units} units** ({first} to {last}). "
        "The employee-experience index is the mean of the unit's {items} answers, two quarters before the customer "
        "outcome, in standard deviations (one standard deviation = {sd} points on the 1–5 scale). Turnover is "
        "measured in the quarter in between. Per standard deviation higher on the index, voluntary turnover the next "
        "quarter differed by **{a} points**; each point of turnover went with **{b_nps} NPS points** "
        "and **{b_ret} points of customer retention** the quarter after. Multiplying the two links gives the part of "
        "the association that runs through turnover: **{ind_nps} NPS points** and **{ind_ret} points of customer "
        "retention** per standard deviation (95% intervals in brackets, from 500+ resamples of whole units)."
    ),
    "chain_share_md": (
        "Of the whole association between the index and {outcome}, {total} points per standard deviation, about "
        "**{share}** runs through turnover; "
        "the rest goes with employee experience directly (or through paths not measured here)."
    ),
    "chain_share_na_md": (
        "The whole association between the index and {outcome} is not clearly different from zero: {total}. So a "
        "share that runs through turnover would not mean much and is not reported."
    ),
    "chain_table_md": "Both chains side by side: through turnover and through engagement.",
    "chain_assumptions_md": (
        "**What this can and cannot say.** Reading the indirect link as \"employee experience lowers turnover, which "
        "lifts loyalty\" needs assumptions the data cannot check: nothing left out of the model (location, clientele, "
        "a strong unit manager) drives both employee experience and turnover, or both turnover and customer loyalty; "
        "and nothing that employee experience changes also drives loyalty besides turnover. Measuring each step in a "
        "later quarter rules out the reverse order in time, not hidden common causes. Treat the numbers as the size "
        "of an association that is consistent with the chain, not as the effect of a programme."
    ),
    "chain_drivers_md": (
        "How much of the variation in each outcome between units goes with each driver, measured the quarter before. "
        "The split (dominance analysis, or Shapley values of R²) tries every combination of drivers, so drivers that "
        "move together share the credit fairly; shares add up to 100% of what the drivers explain together "
        "(R² in the legend, within quarters). The shares are descriptive: a large share is not an effect, and a "
        "driver to act on is named only from its own estimated link (retention and loyalty pages). The table shows "
        "how often each driver's rank held over {reps} resamples of units (an unstable rank is no ranking). "
        "Engagement is reported by individual employees: for it, the split uses each person's other answers in the "
        "same survey (R² {r2_eng})."
    ),
    "chain_fix_md": (
        "Importance (the average share across NPS, customer retention and turnover) against this quarter's mean answer "
        "across the organisation. Drivers that matter more than an equal share and score below the average of the "
        "drivers are the ones to **fix first**; important drivers that already score well are to **maintain**. "
        "The split into quadrants is relative: it ranks drivers against each other, not against an external benchmark."
    ),
    "chain_heat_md": (
        "Mean answers (1–5) in {quarter} by region and for the units with the lowest scores. To protect anonymity, "
        "a group with fewer than {threshold} respondents is never shown, and when that leaves a single hidden cell "
        "in a region (or a single hidden region), a second cell is hidden too, so the small group cannot be worked "
        "out from the total. {hidden} of {cells} unit cells are hidden."
    ),
    "chain_snapshot_md": (
        "**Snapshot data.** The chain needs units followed over quarters with their customers' answers; a single HR "
        "snapshot has neither, so there is nothing to estimate here."
    ),
    "chain_too_little_md": "Too little data to estimate the chain: it needs at least 30 unit-quarters from 10 units with "
                           "survey answers two quarters earlier and customer answers.",
}
_CHAIN_ES = {
    "internal_service": "Servicio interno",
    "chain_est_ci": "{est} ({lo} a {hi})",
    "chain_node_ex": "<b>Experiencia del empleado</b><br>índice, trimestre t−2",
    "chain_node_voluntary_turnover_pct": "<b>Rotación voluntaria</b><br>%, trimestre t−1",
    "chain_node_engagement": "<b>Compromiso</b><br>media 1–5, trimestre t−1",
    "chain_node_outcome": "<b>{outcome}</b><br>trimestre t",
    "chain_path_indirect": "Vínculo indirecto con {outcome} (a × b): {ci} por desviación típica del índice",
    "chain_path_note": "Números: estimación (intervalo bootstrap del 95 %). Flechas oscuras: el intervalo excluye el cero; "
                       "grises: no lo excluye. Asociación, no causalidad.",
    "chain_path_title": "La cadena: experiencia del empleado, rotación y lealtad de clientes",
    "chain_title_path_pos": "Parte del vínculo entre la experiencia del empleado y {outcomes} pasa por una menor rotación",
    "chain_title_path_none": "Sin vínculo claro entre la experiencia del empleado y {outcomes} a través de la rotación",
    "chain_title_path_neg": "A través de la rotación, una mejor experiencia del empleado va con menos {outcomes}",
    "chain_and": "y",
    "chain_importance_title_plain": "Qué acompaña a cada resultado: proporción de la variación explicada",
    "chain_importance_title": "{driver} es lo que más pesa en la lealtad de clientes; {driver_t} en la rotación",
    "chain_share_of_r2": "Proporción de la variación explicada (R²)",
    "chain_eng_title": "{driver} es la respuesta que más acompaña al compromiso",
    "chain_q_fix_first": "Corregir primero",
    "chain_q_maintain": "Mantener",
    "chain_q_secondary": "Secundario",
    "chain_q_monitor": "Vigilar",
    "chain_importance_short": "importancia",
    "chain_current_score": "puntuación",
    "chain_current_score_axis": "Respuesta media este trimestre (1–5)",
    "chain_importance_axis": "Importancia (proporción media entre resultados)",
    "chain_quadrant_title_plain": "Importancia y puntuación actual",
    "chain_quadrant_title_fix": "Corregir primero: {drivers} (importantes y con puntuación inferior al resto)",
    "chain_quadrant_title_none": "Ningún factor es a la vez importante y de puntuación inferior al resto este trimestre",
    "chain_suppressed": "oculto (< {threshold} personas respondieron)",
    "chain_respondents_n": "{n} personas respondieron",
    "chain_mean_answer": "Media (1–5)",
    "chain_blank_cells": "Celdas en blanco: ocultas (< {threshold} personas respondieron, u ocultas para que un grupo "
                         "pequeño no pueda deducirse de un total).",
    "chain_heat_title_region": "{region} puntúa más bajo en {quarter}, {gap} puntos por debajo de las demás regiones en una escala de 1 a 5; {driver_low} es el factor peor valorado en general",
    "chain_heat_title_no_region": "Ninguna región destaca en {quarter}: sus diferencias están dentro del ruido; {driver_low} es el factor peor valorado en general",
    "chain_heat_title_units": "Las {n} unidades con puntuaciones más bajas en {quarter}",
    "chain_heat_title_none": "Respuestas medias por región en {quarter}",
    "chain_col_chain": "Cadena",
    "chain_col_outcome": "Resultado",
    "chain_col_driver": "Factor",
    "chain_col_r2_share": "Proporción del R² explicado",
    "chain_col_rank": "Puesto",
    "chain_col_rank_held": "Remuestreos con el mismo puesto",
    "chain_rank_held": "puesto {rank} en el {pct} de los remuestreos",
    "chain_col_a": "EX → mediador (a)",
    "chain_col_b": "Mediador → resultado (b)",
    "chain_col_indirect": "Indirecto (a × b)",
    "chain_col_direct": "Directo (c′)",
    "chain_col_total": "Total",
    "chain_col_share": "Proporción a través del mediador",
    "chain_col_n": "Unidades-trimestre",
    "chain_col_units": "Unidades",
    "chain_col_driver": "Factor",
    "chain_col_quadrant": "Cuadrante",
    "chain_col_importance": "Importancia",
    "chain_col_score": "Respuesta media (1–5)",
    "chain_via_voluntary_turnover_pct": "vía rotación",
    "chain_via_engagement": "vía compromiso",
    "chain_h_path": "De la experiencia del empleado a la lealtad de clientes",
    "chain_h_drivers": "Qué factores pesan más",
    "chain_h_fix": "Qué corregir primero",
    "chain_h_heat": "Dónde: puntuaciones por región y unidad",
    "chain_h_method": "Cómo leer este informe",
    "chain_intro": (
        "La cadena de servicio-beneficio dice que el trato que reciben las personas en el trabajo (reconocimiento, "
        "empoderamiento, liderazgo) influye en que se queden, y que los equipos estables atienden mejor a los clientes, que "
        "vuelven y recomiendan la empresa. Este informe contrasta esa cadena con nuestros propios datos, unidad a "
        "unidad y trimestre a trimestre. Todo lo que sigue es **asociación, no causalidad**: las unidades que difieren "
        "en experiencia del empleado también difieren en otras cosas que no vemos."
    ),
    "chain_path_md": (
        "Cada flecha es un eslabón, estimado con **{n} unidades-trimestre de {units} unidades** ({first} a {last}). "
        "El índice de experiencia del empleado es la media de las respuestas de la unidad sobre {items}, dos trimestres "
        "antes del resultado de clientes, en desviaciones típicas (una desviación típica = {sd} puntos en la escala "
        "1–5). La rotación se mide en el trimestre intermedio. Por cada desviación típica más en el índice, la rotación "
        "voluntaria del trimestre siguiente difirió en **{a} puntos**; cada punto de rotación fue con "
        "**{b_nps} puntos de NPS** y **{b_ret} puntos de retención de clientes** el trimestre posterior. Multiplicando "
        "ambos eslabones se obtiene la parte de la asociación que pasa por la rotación: **{ind_nps} puntos de NPS** y "
        "**{ind_ret} puntos de retención de clientes** por desviación típica (intervalos del 95 % entre paréntesis, "
        "con más de 500 remuestreos de unidades completas)."
    ),
    "chain_share_md": (
        "De toda la asociación entre el índice y {outcome}, {total} puntos por desviación típica, aproximadamente "
        "**{share}** pasa por la rotación; el resto va con la experiencia del empleado directamente (o por caminos que aquí no se miden)."
    ),
    "chain_share_na_md": (
        "La asociación total entre el índice y {outcome} no se distingue claramente de cero: {total}. Así que la "
        "proporción que pasa por la rotación no tendría mucho sentido y no se muestra."
    ),
    "chain_table_md": "Las dos cadenas lado a lado: a través de la rotación y a través del compromiso.",
    "chain_assumptions_md": (
        "**Qué puede y qué no puede decir esto.** Leer el vínculo indirecto como «la experiencia del empleado reduce "
        "la rotación, y eso mejora la lealtad» exige supuestos que los datos no pueden comprobar: nada que quede fuera "
        "del modelo (ubicación, tipo de clientela, un buen responsable de unidad) impulsa a la vez la experiencia del "
        "empleado y la rotación, o la rotación y la lealtad de clientes; y nada que cambie la experiencia del empleado "
        "influye en la lealtad por otra vía que la rotación. Medir cada paso en un trimestre posterior descarta el "
        "orden inverso en el tiempo, no las causas comunes ocultas. Los números son el tamaño de una asociación "
        "coherente con la cadena, no el efecto de un programa."
    ),
    "chain_drivers_md": (
        "Qué parte de la variación de cada resultado entre unidades va con cada factor, medido el trimestre anterior. "
        "El reparto (análisis de dominancia o valores de Shapley del R²) prueba todas las combinaciones de factores, "
        "así que los factores que se mueven juntos se reparten el mérito de forma justa; las proporciones suman el "
        "100 % de lo que los factores explican juntos (R² en la leyenda, dentro de cada trimestre). Las proporciones "
        "son descriptivas: una proporción grande no es un efecto, y un factor en el que actuar solo se nombra por su "
        "propio vínculo estimado (páginas de retención y lealtad). La tabla muestra con qué frecuencia se mantuvo el "
        "puesto de cada factor en {reps} remuestreos de unidades (un puesto inestable no es una clasificación). El compromiso lo declara cada persona: "
        "para él, el reparto usa las demás respuestas de la misma persona en la misma encuesta (R² {r2_eng})."
    ),
    "chain_fix_md": (
        "La importancia (la proporción media entre NPS, retención de clientes y rotación) frente a la respuesta media "
        "de este trimestre en toda la organización. Los factores que pesan más que una parte igual y puntúan por debajo "
        "de la media de los factores son los que hay que **corregir primero**; los importantes que ya puntúan bien, "
        "a **mantener**. Los cuadrantes son relativos: ordenan los factores entre sí, no frente a una referencia externa."
    ),
    "chain_heat_md": (
        "Respuestas medias (1–5) en {quarter} por región y para las unidades con puntuaciones más bajas. Para proteger "
        "el anonimato, nunca se muestra un grupo con menos de {threshold} personas que respondieron, y cuando eso deja "
        "una sola celda oculta en una región (o una sola región oculta), se oculta una segunda, para que el grupo "
        "pequeño no pueda deducirse del total. Se ocultan {hidden} de {cells} celdas de unidades."
    ),
    "chain_snapshot_md": (
        "**Datos de foto fija.** La cadena necesita unidades seguidas a lo largo de los trimestres con las respuestas "
        "de sus clientes; una única foto de RR. HH. no tiene ninguna de las dos cosas, así que aquí no hay nada que estimar."
    ),
    "chain_too_little_md": "Datos insuficientes para estimar la cadena: hacen falta al menos 30 unidades-trimestre de 10 "
                           "unidades con respuestas a la encuesta dos trimestres antes y respuestas de clientes.",
}
_add_words(_CHAIN_EN, _CHAIN_ES)

# --- money (04) notebook ------------------------------------------------------------------------------
_FIN_EN = {
    "fin_h1": "Money: what the service-profit chain is worth",
    "fin_intro": (
        "This page turns the estimated links between employee experience, employee retention and customer "
        "retention into money for {quarter}. It uses our users' working rule that **acquiring a new customer costs "
        "six to seven times as much as keeping one** (here {multiple}×). That rule is a practitioner heuristic, not a "
        "measured constant: replace it with your own acquisition and retention costs per customer when you know them "
        "(see *Assumptions* below). Money is in {currency}, per year unless a quarter is named."
    ),
    "fin_h_baseline": "What turnover and lost customers cost in {quarter}",
    "fin_baseline_text": (
        "In {quarter}, **{exits} employees left voluntarily** ({from_start} who were here when the quarter started and "
        "{joined} who joined and left within it). Replacing them costs about **{rep}** (salary × the "
        "replacement share of their role: {shares}). **{lost} customers** of the previous quarter did not come back; "
        "that costs about **{cust}**: {margin} of margin ({months} months) and {reacq} to win replacements at {multiple}× "
        "the retention cost of {retcost} per customer a year. Together: **{total}** in one quarter."
    ),
    "fin_baseline_note": (
        "By region. Blank cells are hidden: fewer than {threshold} people or leavers (one leaver's cost would reveal a "
        "salary), or hidden so that a small group cannot be worked out from the total."
    ),
    "fin_h_scenarios": "What the programmes could be worth",
    "fin_scenarios_text": (
        "Each scenario changes last quarter's drivers of the {n} people at risk of leaving (those on the payroll for "
        "the whole previous quarter; the {leavers} voluntary leavers above also count {joined} who joined and left "
        "within the quarter, whom no programme of this kind reaches in time); the retention model "
        "predicts how many fewer would leave within a year, and the customer-retention model turns the units' better "
        "drivers and lower turnover into customers who keep coming back. Bars: median (P50) net value after the "
        "programme's first-year cost; whiskers: P10–P90 over {draws} joint draws of the two models' coefficients and of "
        "every assumption within its range (multiple, replacement shares, margin, costs, programme cost). "
        "**Association, not causation:** a programme is worth this only if the links are causal and it really moves "
        "the driver this much."
    ),
    "fin_scenarios_note": (
        "Medians with P10–P90 in brackets; exits avoided and customers retained per year. Payback: months for the "
        "median gross value to repay the first-year cost. Break-even multiple: the acquisition-cost multiple at which "
        "the median net value is zero (*always*: positive even if winning a customer cost no more than keeping one; "
        "*never*: not positive at any multiple)."
    ),
    "fin_net_value_coef_only": "Net value, coefficients only (P50, P10–P90)",
    "fin_conservative_case": "Conservative case (P50)",
    "fin_h_dist": "How sure are these numbers?",
    "fin_dist_text": (
        "The spread of each scenario's net value over the joint draws of the models' coefficients and the "
        "assumptions. Chance of a positive net value: {items}. The next chart shows which assumption moves the answer "
        "most when it alone goes to either end of its range."
    ),
    "fin_h_sensitivity": "Which assumption matters most",
    "fin_sensitivity_text": (
        "Each bar moves one assumption to the low and to the high end of its range, everything else unchanged: the "
        "wider the bar, the more the answer depends on that number. The acquisition multiple appears twice: our users' "
        "band ({band}) and, as a stress test, the 5–25× range usually quoted from Harvard Business Review (2014)."
    ),
    "fin_break_even_text": "**Break-even acquisition multiple:** {items}.",
    "fin_h_whatif": "What if?",
    "fin_whatif_text": (
        "Pick a scenario in the menu and an acquisition-cost multiple on the slider. Bars: the median of each part of "
        "the value per year (whiskers P10–P90); the programme cost is negative. Every combination is precomputed, so "
        "this works in the saved page, offline."
    ),
    "fin_h_assumptions": "Assumptions",
    "fin_assumptions_text": (
        "Every number used, its range and its source ({file}). Programme costs are illustrative defaults: replace "
        "them with your quotes. To change any value, put the keys you want to change in a YAML file and run "
        "`servicechain run … --assumptions your_file.yml` (docs/assumptions.md lists every key). Sources are shown as "
        "written in the assumptions file."
    ),
    "fin_file_defaults": "the shipped defaults",
    "fin_file_user": "the shipped defaults, changed by {file}",
    "fin_h_limits": "Limits",
    "fin_limits_text": (
        "- **Association, not causation.** The models describe how the drivers moved together with leaving and with "
        "customers coming back, adjusted for tenure, role and quarter. A programme may not move a driver as "
        "assumed.\n"
        "- The P10–P90 ranges draw the models' coefficients and every assumption within its range together; the "
        "scenario table also gives the range with the assumptions fixed at their defaults (coefficients only) and "
        "the *conservative case* (every assumption at its cautious end).\n"
        "- Only people at risk this quarter count (employed for the whole previous quarter), so recent hires are left "
        "out and the employee side is conservative. Missing survey answers ({imputed} of the people at risk) are "
        "filled with their unit's mean.\n"
        "- A change is assumed to hold for a full year: four quarters of the same hazard for employees, four quarters "
        "of the retention gain on the current customer base for customers.\n"
        "- Replacement shares and the acquisition multiple are rules of thumb (Gallup 2024; Boushey & Glynn 2012; "
        "HBR 2014). Your own figures are better.\n"
        "- Programme costs are first-year costs; payback compares them with one year of value."
    ),
    "fin_title_worth": "{scenario} is worth {value} (P10–P90 {low} to {high}) a year, net of its cost",
    "fin_title_costs": "{scenario} would cost more than it returns: {value} a year (P10–P90 {low} to {high})",
    "fin_title_dist_sure": "{n} of {total} scenarios have a positive net value in at least 90% of the draws",
    "fin_title_dist_unsure": "No scenario has a positive net value in 90% of the draws",
    "fin_title_tornado": "{scenario}: the answer depends most on the {assumption}",
    "fin_title_tornado_flip": "{scenario}: the {assumption} matters most, and at some ends of the ranges the value turns negative",
    "fin_title_whatif": "What if: pick a scenario and an acquisition-cost multiple",
    "fin_title_baseline": "Voluntary turnover cost {rep} and lost customers {cust} in {quarter}",
    "fin_axis_net_value": "Net value per year ({currency})",
    "fin_axis_share_draws": "Share of draws (%)",
    "fin_axis_p50_net_value": "Median net value per year ({currency})",
    "fin_axis_money_year": "{currency} per year",
    "fin_axis_money_quarter": "{currency} in the quarter",
    "fin_slider_prefix": "Acquisition cost = retention cost × ",
    "fin_title_whatif_share": "What if, for “{scenario}”: replacing a leaver costs more or less, and winning a customer",
    "fin_share_low": "Replacement cost: low end",
    "fin_share_default": "Replacement cost: default",
    "fin_share_high": "Replacement cost: high end",
    "fin_whatif_share_text": (
        "The buttons set every role's replacement cost at the low end of its documented range ({low}), the default "
        "({default}) or the high end ({high}); the slider sets how many times the retention cost winning a new "
        "customer costs. Both act together. Bars: median value per year; the programme cost is its illustrative "
        "default unless your assumptions file gives a quote."
    ),
    "fin_low_end": "Low end of the range",
    "fin_high_end": "High end of the range",
    "fin_assumption_multiple_band": "Acquisition multiple (users' band)",
    "fin_assumption_multiple_stress": "Acquisition multiple (5–25× stress)",
    "fin_assumption_replacement_cost_share": "Replacement cost (floor 21% to role values)",
    "fin_assumption_margin_share": "Margin (share of revenue)",
    "fin_assumption_margin_horizon_months": "Months of margin lost",
    "fin_assumption_retention_cost_per_customer_per_year": "Retention cost per customer a year",
    "fin_assumption_revenue_per_customer_per_year": "Revenue per customer a year",
    "fin_assumption_programme_cost": "Programme cost",
    "fin_assumption_acquisition_cost_multiple": "Acquisition cost multiple",
    "fin_assumption_customers_per_unit": "Customers per unit",
    "fin_assumption_annual_salary_fallback": "Salary where missing",
    "fin_assumption_replacement_share_role": "Replacement cost, {role} (share of salary)",
    "fin_assumption_programme_cost_of": "Programme cost: {scenario}",
    "fin_comp_replacement_cost_avoided": "Replacement cost avoided",
    "fin_comp_acquisition_spend_avoided": "Acquisition spend avoided",
    "fin_comp_margin_kept": "Margin kept",
    "fin_comp_programme_cost": "Programme cost",
    "fin_comp_net_value": "Net value",
    "fin_exits_avoided": "Exits avoided a year",
    "fin_customers_retained": "Customers retained a year",
    "fin_payback_months": "Payback (months)",
    "fin_break_even_multiple": "Break-even multiple",
    "fin_never": "never",
    "fin_always": "always",
    "fin_auto": "from the data",
    "fin_stress": "stress",
    "fin_see_components": "see the scenario's costs in the file",
    "fin_n_months": "{n} months",
    "fin_replacement_cost": "Replacement cost",
    "fin_customers_lost": "Customers lost",
    "fin_lost_margin": "Margin lost",
    "fin_reacquisition_cost": "Cost to win replacements",
    "fin_total_cost": "Total cost",
    "fin_col_assumption": "Assumption",
    "fin_col_value_used": "Value used",
    "fin_col_range": "Range",
    "fin_col_source": "Source",
    "fin_chance": "{scenario} {p}",
    "fin_cost_sum": "The sum of the costs of: {scenarios}.",
    "fin_gross_value": "Gross value",
    "fin_components_note": (
        "Where the value comes from: averages over the draws, per year. They add up (the three parts make the gross "
        "value; less the programme cost, the net value); the headline figures above are medians, so they differ a "
        "little from these averages. The average programme cost is above the value used when its range reaches "
        "further above it than below."
    ),
    "fin_h_components": "Where the value comes from",
    "fin_net_value_mean": "Net value (average)",
    "fin_gross_value_mean": "Gross value (average)",
    "fin_multiple_effect": (
        "**The 6–7× rule in the headline:** {scenario} is worth {v_low} a year at {low}× and {v_high} at {high}× "
        "(P50, net); the rule prices the {acq} of customer acquisition spend avoided."
    ),
    "fin_multiple_effect_fixed": (
        "**The 6–7× rule in the headline:** your acquisition cost per customer is used as it is, so the multiple does "
        "not change {scenario}'s value ({value} a year, P50, net)."
    ),
    "fin_assumption_acquisition_cost_per_customer": "Acquisition cost per customer",
    "fin_given": "given",
    "fin_derived": "derived",
    "fin_customer_cost_acquisition": (
        "**Customer costs.** You gave the cost of winning a customer ({acq}); the cost of keeping one is derived from "
        "it with the rule acquisition = multiple × retention: {acq} ÷ {multiple}× = {ret} a year. The multiple "
        "therefore does not change the money: your acquisition cost is used as it is."
    ),
    "fin_customer_cost_retention": (
        "**Customer costs.** You gave the cost of keeping a customer ({ret} a year); the cost of winning one is "
        "derived with the rule acquisition = multiple × retention: {multiple}× {ret} = {acq}."
    ),
    "fin_customer_cost_revenue_share": (
        "**Customer costs.** Neither cost was given: the cost of keeping a customer is an illustrative {share} of "
        "revenue per customer ({ret} a year) and the cost of winning one is derived with the rule acquisition = "
        "multiple × retention: {multiple}× {ret} = {acq}. State `acquisition_cost_per_customer` or "
        "`retention_cost_per_customer_per_year` in your assumptions file when you know one."
    ),
    "fin_illustrative": "illustrative",
    "fin_placeholder_note": (
        "† Net of an illustrative programme cost (a shipped default, not a quote): replace it with your quote in your "
        "assumptions file (the scenario's `programme_cost`)."
    ),
    "fin_col_reach": "Already at that level today",
    "fin_reach_cell": "{units} of units, {people} of people",
    "fin_beyond_data": "beyond the data",
    "fin_within_data": "within the data",
    "fin_reach_note": (
        "**How far each scenario goes beyond the data:** the share of units (and of people) already at the level the "
        "scenario asks of the average unit (the lowest such share when it moves several drivers). A scenario that "
        "fewer than {min} of units reach today is marked *beyond the data*: its value extrapolates the models past "
        "what was observed. The headline is {scenario}, the most valuable scenario within the data."
    ),
    "fin_reach_note_none": (
        "**How far each scenario goes beyond the data:** the share of units (and of people) already at the level the "
        "scenario asks of the average unit. Every scenario goes beyond what fewer than {min} of units reach today: "
        "all the values extrapolate the models."
    ),
    "fin_snapshot_md": (
        "**Snapshot data.** Money needs people followed over quarters and the customers of their units; a single HR "
        "snapshot has neither, so there is nothing to estimate here."
    ),
    "fin_too_little_md": "Too little data to put money on the chain: {why}",
}
_FIN_ES = {
    "fin_h1": "Dinero: lo que vale la cadena de servicio-beneficio",
    "fin_intro": (
        "Esta página traduce a dinero los vínculos estimados entre la experiencia del empleado, la retención de "
        "empleados y la retención de clientes en {quarter}. Usa la regla práctica de nuestros usuarios: **captar un "
        "cliente nuevo cuesta de seis a siete veces más que conservar uno** (aquí {multiple}×). Es una regla empírica de "
        "profesionales, no una constante medida: sustitúyala por sus propios costes de captación y de retención por "
        "cliente cuando los conozca (véase *Supuestos* más abajo). Importes en {currency}, por año salvo que se indique "
        "un trimestre."
    ),
    "fin_h_baseline": "Lo que costaron la rotación y los clientes perdidos en {quarter}",
    "fin_baseline_text": (
        "En {quarter}, **{exits} empleados se fueron voluntariamente** ({from_start} que ya estaban al empezar el "
        "trimestre y {joined} que entraron y se fueron dentro de él). Sustituirlos cuesta unos **{rep}** (salario × "
        "proporción de sustitución de su puesto: {shares}). **{lost} clientes** del trimestre anterior no volvieron; "
        "eso cuesta unos **{cust}**: {margin} de margen ({months} meses) y {reacq} para captar sustitutos a {multiple}× el "
        "coste de retención de {retcost} por cliente y año. En total: **{total}** en un trimestre."
    ),
    "fin_baseline_note": (
        "Por región. Las celdas en blanco están ocultas: menos de {threshold} personas o salidas (el coste de una sola "
        "salida revelaría un salario), u ocultas para que un grupo pequeño no pueda deducirse del total."
    ),
    "fin_h_scenarios": "Lo que podrían valer los programas",
    "fin_scenarios_text": (
        "Cada escenario cambia los factores del trimestre anterior de las {n} personas en riesgo de irse (quienes "
        "estaban en plantilla todo el trimestre anterior; las {leavers} bajas voluntarias de arriba incluyen además "
        "{joined} de quienes entraron y se fueron dentro del trimestre, a quienes un programa así no llega a tiempo); el modelo de "
        "retención predice cuántas menos se irían en un año, y el modelo de retención de clientes convierte los mejores "
        "factores y la menor rotación de las unidades en clientes que siguen volviendo. Barras: valor neto mediano "
        "(P50) tras el coste del programa el primer año; bigotes: P10–P90 en {draws} simulaciones conjuntas de los coeficientes "
        "de los dos modelos y de cada supuesto dentro de su rango (múltiplo, proporciones de reemplazo, margen, "
        "costes, coste del programa). **Asociación, no causalidad:** un programa vale esto solo si los vínculos son causales y "
        "si de verdad mueve el factor en esa medida."
    ),
    "fin_scenarios_note": (
        "Medianas con P10–P90 entre paréntesis; salidas evitadas y clientes retenidos por año. Recuperación: meses que "
        "tarda el valor bruto mediano en pagar el coste del primer año. Múltiplo de equilibrio: el múltiplo del coste de "
        "captación con el que el valor neto mediano es cero (*siempre*: positivo aunque captar un cliente no costara "
        "más que conservarlo; *nunca*: no es positivo con ningún múltiplo)."
    ),
    "fin_net_value_coef_only": "Valor neto, solo coeficientes (P50, P10–P90)",
    "fin_conservative_case": "Caso prudente (P50)",
    "fin_h_dist": "¿Cuán seguras son estas cifras?",
    "fin_dist_text": (
        "La dispersión del valor neto de cada escenario en las simulaciones conjuntas de los coeficientes de los "
        "modelos y de los supuestos. Probabilidad de un valor neto positivo: {items}. El gráfico siguiente muestra qué "
        "supuesto mueve más la respuesta cuando solo él va a uno u otro extremo de su rango."
    ),
    "fin_h_sensitivity": "Qué supuesto pesa más",
    "fin_sensitivity_text": (
        "Cada barra lleva un supuesto al extremo bajo y al alto de su rango, con todo lo demás igual: cuanto más ancha "
        "la barra, más depende la respuesta de ese número. El múltiplo de captación aparece dos veces: la banda de "
        "nuestros usuarios ({band}) y, como prueba de estrés, el rango de 5 a 25× que suele citarse de Harvard Business "
        "Review (2014)."
    ),
    "fin_break_even_text": "**Múltiplo de captación de equilibrio:** {items}.",
    "fin_h_whatif": "¿Y si…?",
    "fin_whatif_text": (
        "Elija un escenario en el menú y un múltiplo del coste de captación en el deslizador. Barras: la mediana de cada "
        "parte del valor por año (bigotes P10–P90); el coste del programa es negativo. Todas las combinaciones están "
        "precalculadas, así que funciona en la página guardada, sin conexión."
    ),
    "fin_h_assumptions": "Supuestos",
    "fin_assumptions_text": (
        "Cada número utilizado, su rango y su fuente ({file}). Los costes de los programas son valores ilustrativos: "
        "sustitúyalos por sus presupuestos. Para cambiar un valor, ponga las claves que quiera cambiar en un archivo "
        "YAML y ejecute `servicechain run … --assumptions su_archivo.yml` (docs/assumptions.md enumera todas las "
        "claves). Las fuentes se muestran tal como figuran en el archivo de supuestos."
    ),
    "fin_file_defaults": "los valores por defecto",
    "fin_file_user": "los valores por defecto, cambiados por {file}",
    "fin_h_limits": "Límites",
    "fin_limits_text": (
        "- **Asociación, no causalidad.** Los modelos describen cómo los factores se movieron junto con las salidas y "
        "con la vuelta de los clientes, ajustando por antigüedad, puesto y trimestre. Un programa puede no mover un "
        "factor como se supone.\n"
        "- Los rangos P10–P90 simulan a la vez los coeficientes de los modelos y cada supuesto dentro de su rango; la "
        "tabla de escenarios da también el rango con los supuestos fijos en sus valores por defecto (solo "
        "coeficientes) y el *caso prudente* (cada supuesto en su extremo cauto).\n"
        "- Solo cuentan las personas en riesgo este trimestre (empleadas durante todo el trimestre anterior): las "
        "incorporaciones recientes quedan fuera y la parte de empleados es conservadora. Las respuestas que faltan "
        "({imputed} de las personas en riesgo) se completan con la media de su unidad.\n"
        "- Se supone que el cambio dura un año completo: cuatro trimestres del mismo riesgo para los empleados y cuatro "
        "trimestres de la mejora de retención sobre la base actual de clientes.\n"
        "- Las proporciones de sustitución y el múltiplo de captación son reglas empíricas (Gallup 2024; Boushey y "
        "Glynn 2012; HBR 2014). Sus propias cifras son mejores.\n"
        "- Los costes de los programas son del primer año; la recuperación los compara con un año de valor."
    ),
    "fin_title_worth": "{scenario} vale {value} (P10–P90 de {low} a {high}) al año, descontado su coste",
    "fin_title_costs": "{scenario} costaría más de lo que devuelve: {value} al año (P10–P90 de {low} a {high})",
    "fin_title_dist_sure": "{n} de {total} escenarios tienen un valor neto positivo en al menos el 90 % de las simulaciones",
    "fin_title_dist_unsure": "Ningún escenario tiene un valor neto positivo en el 90 % de las simulaciones",
    "fin_title_tornado": "{scenario}: la respuesta depende sobre todo de {assumption}",
    "fin_title_tornado_flip": "{scenario}: lo que más pesa es {assumption}, y en algunos extremos de los rangos el valor se vuelve negativo",
    "fin_title_whatif": "¿Y si…? Elija un escenario y un múltiplo del coste de captación",
    "fin_title_baseline": "La rotación voluntaria costó {rep} y los clientes perdidos {cust} en {quarter}",
    "fin_axis_net_value": "Valor neto por año ({currency})",
    "fin_axis_share_draws": "Proporción de simulaciones (%)",
    "fin_axis_p50_net_value": "Valor neto mediano por año ({currency})",
    "fin_axis_money_year": "{currency} por año",
    "fin_axis_money_quarter": "{currency} en el trimestre",
    "fin_slider_prefix": "Coste de captación = coste de retención × ",
    "fin_title_whatif_share": "¿Y si, para «{scenario}», sustituir una baja costara más o menos, y captar un cliente?",
    "fin_share_low": "Coste de sustitución: mínimo",
    "fin_share_default": "Coste de sustitución: por defecto",
    "fin_share_high": "Coste de sustitución: máximo",
    "fin_whatif_share_text": (
        "Los botones fijan el coste de sustituir a cada rol en el mínimo de su rango documentado ({low}), el valor por "
        "defecto ({default}) o el máximo ({high}); el control deslizante fija cuántas veces el coste de retención "
        "cuesta captar un cliente nuevo. Ambos actúan a la vez. Barras: valor mediano al año; el coste del programa "
        "es el ilustrativo por defecto salvo que su archivo de supuestos dé un presupuesto."
    ),
    "fin_low_end": "Extremo bajo del rango",
    "fin_high_end": "Extremo alto del rango",
    "fin_assumption_multiple_band": "Múltiplo de captación (banda de los usuarios)",
    "fin_assumption_multiple_stress": "Múltiplo de captación (estrés 5–25×)",
    "fin_assumption_replacement_cost_share": "Coste de sustitución (del mínimo del 21 % a los valores por puesto)",
    "fin_assumption_margin_share": "Margen (proporción de los ingresos)",
    "fin_assumption_margin_horizon_months": "Meses de margen perdidos",
    "fin_assumption_retention_cost_per_customer_per_year": "Coste de retención por cliente y año",
    "fin_assumption_revenue_per_customer_per_year": "Ingresos por cliente y año",
    "fin_assumption_programme_cost": "Coste del programa",
    "fin_assumption_acquisition_cost_multiple": "Múltiplo del coste de captación",
    "fin_assumption_customers_per_unit": "Clientes por unidad",
    "fin_assumption_annual_salary_fallback": "Salario cuando falta",
    "fin_assumption_replacement_share_role": "Coste de sustitución, {role} (proporción del salario)",
    "fin_assumption_programme_cost_of": "Coste del programa: {scenario}",
    "fin_comp_replacement_cost_avoided": "Coste de sustitución evitado",
    "fin_comp_acquisition_spend_avoided": "Gasto de captación evitado",
    "fin_comp_margin_kept": "Margen conservado",
    "fin_comp_programme_cost": "Coste del programa",
    "fin_comp_net_value": "Valor neto",
    "fin_exits_avoided": "Salidas evitadas al año",
    "fin_customers_retained": "Clientes retenidos al año",
    "fin_payback_months": "Recuperación (meses)",
    "fin_break_even_multiple": "Múltiplo de equilibrio",
    "fin_never": "nunca",
    "fin_always": "siempre",
    "fin_auto": "de los datos",
    "fin_stress": "estrés",
    "fin_see_components": "véanse los costes del escenario en el archivo",
    "fin_n_months": "{n} meses",
    "fin_replacement_cost": "Coste de sustitución",
    "fin_customers_lost": "Clientes perdidos",
    "fin_lost_margin": "Margen perdido",
    "fin_reacquisition_cost": "Coste de captar sustitutos",
    "fin_total_cost": "Coste total",
    "fin_col_assumption": "Supuesto",
    "fin_col_value_used": "Valor usado",
    "fin_col_range": "Rango",
    "fin_col_source": "Fuente",
    "fin_chance": "{scenario} {p}",
    "fin_cost_sum": "La suma de los costes de: {scenarios}.",
    "fin_gross_value": "Valor bruto",
    "fin_components_note": (
        "De dónde sale el valor: medias de las simulaciones, por año. Suman (las tres partes dan el valor bruto; "
        "descontado el coste del programa, el valor neto); las cifras principales de arriba son medianas, por lo que "
        "difieren un poco de estas medias. El coste medio del programa supera el valor usado cuando su rango se "
        "extiende más por encima que por debajo."
    ),
    "fin_h_components": "De dónde sale el valor",
    "fin_net_value_mean": "Valor neto (media)",
    "fin_gross_value_mean": "Valor bruto (media)",
    "fin_multiple_effect": (
        "**La regla de 6–7× en la cifra principal:** {scenario} vale {v_low} al año con {low}× y {v_high} con {high}× "
        "(P50, neto); la regla pone precio a los {acq} de gasto de captación de clientes evitado."
    ),
    "fin_multiple_effect_fixed": (
        "**La regla de 6–7× en la cifra principal:** su coste de captación por cliente se usa tal cual, así que el "
        "múltiplo no cambia el valor de {scenario} ({value} al año, P50, neto)."
    ),
    "fin_assumption_acquisition_cost_per_customer": "Coste de captación por cliente",
    "fin_given": "indicado",
    "fin_derived": "derivado",
    "fin_customer_cost_acquisition": (
        "**Costes por cliente.** Usted indicó lo que cuesta captar un cliente ({acq}); lo que cuesta retenerlo se "
        "deriva con la regla captación = múltiplo × retención: {acq} ÷ {multiple}× = {ret} al año. Por eso el "
        "múltiplo no cambia el dinero: su coste de captación se usa tal cual."
    ),
    "fin_customer_cost_retention": (
        "**Costes por cliente.** Usted indicó lo que cuesta retener un cliente ({ret} al año); lo que cuesta captarlo "
        "se deriva con la regla captación = múltiplo × retención: {multiple}× {ret} = {acq}."
    ),
    "fin_customer_cost_revenue_share": (
        "**Costes por cliente.** No se indicó ninguno de los dos: retener un cliente cuesta un {share} ilustrativo de "
        "sus ingresos ({ret} al año) y captarlo se deriva con la regla captación = múltiplo × retención: "
        "{multiple}× {ret} = {acq}. Indique `acquisition_cost_per_customer` o `retention_cost_per_customer_per_year` "
        "en su archivo de supuestos cuando conozca uno."
    ),
    "fin_illustrative": "ilustrativo",
    "fin_placeholder_note": (
        "† Descontado un coste de programa ilustrativo (un valor por defecto, no un presupuesto): sustitúyalo por su "
        "presupuesto en su archivo de supuestos (el `programme_cost` del escenario)."
    ),
    "fin_col_reach": "Ya en ese nivel hoy",
    "fin_reach_cell": "{units} de las unidades, {people} de las personas",
    "fin_beyond_data": "más allá de los datos",
    "fin_within_data": "dentro de los datos",
    "fin_reach_note": (
        "**Hasta dónde va cada escenario más allá de los datos:** la proporción de unidades (y de personas) que ya "
        "están en el nivel que el escenario pide a la unidad media (la menor de ellas si mueve varios factores). Un "
        "escenario que hoy alcanzan menos del {min} de las unidades se marca *más allá de los datos*: su valor "
        "extrapola los modelos fuera de lo observado. La cifra principal es {scenario}, el escenario de más valor "
        "dentro de los datos."
    ),
    "fin_reach_note_none": (
        "**Hasta dónde va cada escenario más allá de los datos:** la proporción de unidades (y de personas) que ya "
        "están en el nivel que el escenario pide a la unidad media. Todos los escenarios van más allá de lo que hoy "
        "alcanza el {min} de las unidades: todos los valores extrapolan los modelos."
    ),
    "fin_snapshot_md": (
        "**Datos de foto fija.** El dinero necesita personas seguidas a lo largo de los trimestres y los clientes de sus "
        "unidades; una única foto de RR. HH. no tiene ninguna de las dos cosas, así que aquí no hay nada que estimar."
    ),
    "fin_too_little_md": "Datos insuficientes para poner dinero a la cadena: {why}",
}
_add_words(_FIN_EN, _FIN_ES)

MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
           "septiembre", "octubre", "noviembre", "diciembre"),
}

CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CHF": "CHF", "MXN": "MX$"}


def as_number(v: Any) -> float | None:
    """A finite float, or None for missing, boolean, non-numeric or non-finite values (metrics read back from JSON)."""
    if isinstance(v, bool) or v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"language must be one of {', '.join(LANGS)}, got {lang!r}")
    return lang


def t(key: str, lang: str = "en", **values: Any) -> str:
    """The word for ``key`` in ``lang``; unknown keys fall back to English, then to the key.

    ``values`` fill ``{placeholders}``: ``t("privacy_note", "es", threshold=5)``.
    """
    words = WORDS.get(lang, WORDS["en"])
    s = words.get(key)
    if s is None:
        s = WORDS["en"].get(key, key)
    return s.format(**values) if values else s


def has(key: str) -> bool:
    return key in WORDS["en"]


def _missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        return not math.isfinite(float(x))
    except (TypeError, ValueError):
        return True


def fmt_number(x: Any, lang: str = "en", decimals: int = 0) -> str:
    """``1234.5`` -> ``1,234.5`` (en) / ``1.234,5`` (es). Missing values -> an en dash."""
    if _missing(x):
        return MISSING
    s = f"{float(x):,.{decimals}f}"
    if s.startswith("-") and float(s.replace(",", "")) == 0:
        s = s[1:]  # no "-0.0"
    if lang == "es":
        s = s.translate(str.maketrans({",": ".", ".": ","}))
    return s.replace("-", "−") if s.startswith("-") else s


def fmt_pct(x: Any, lang: str = "en", decimals: int = 1) -> str:
    """A fraction as a percentage: ``0.123`` -> ``12.3%`` (en) / ``12,3 %`` (es)."""
    if _missing(x):
        return MISSING
    n = fmt_number(float(x) * 100, lang, decimals)
    return f"{n}{NBSP}%" if lang == "es" else f"{n}%"


def fmt_points(x: Any, lang: str = "en", decimals: int = 1, signed: bool = True) -> str:
    """A change of a fraction in percentage points: ``0.012`` -> ``+1.2 pp`` / ``+1,2 p. p.``."""
    if _missing(x):
        return MISSING
    v = float(x) * 100
    s = fmt_number(abs(v), lang, decimals)
    sign = ("+" if v > 0 else "−" if v < 0 and s.strip("0,.") else "") if signed else ("−" if v < 0 else "")
    return f"{sign}{s}{NBSP}{t('points', lang)}"


def fmt_signed(x: Any, lang: str = "en", decimals: int = 0) -> str:
    """``+1,234`` / ``−56``: a change in the unit of the value."""
    if _missing(x):
        return MISSING
    v = float(x)
    s = fmt_number(abs(v), lang, decimals)
    sign = "+" if v > 0 and s.strip("0,.") else "−" if v < 0 and s.strip("0,.") else ""
    return f"{sign}{s}"


def fmt_money(x: Any, currency: str = "EUR", lang: str = "en", decimals: int = 0, compact: bool = False) -> str:
    """``1234567`` -> ``€1,234,567`` (en) / ``1.234.567 €`` (es).

    ``compact=True`` -> ``€1.2M`` / ``1,2 M€`` (thousands: ``k``).
    """
    if _missing(x):
        return MISSING
    v = float(x)
    sym = CURRENCY_SYMBOLS.get(currency.upper(), currency.upper()) if currency else ""
    suffix = ""
    if compact:
        a = abs(v)
        if a >= 1e9:
            v, suffix, decimals = v / 1e9, ("bn" if lang == "en" else "mil M"), 1
        elif a >= 1e6:
            v, suffix, decimals = v / 1e6, "M", 1
        elif a >= 1e4:
            v, suffix, decimals = v / 1e3, "k", 0
    n = fmt_number(abs(v), lang, decimals)
    neg = "−" if v < 0 and n.strip("0,.") else ""
    if lang == "es":
        unit = f"{suffix}{sym}" if suffix and len(sym) == 1 else (f"{suffix}{NBSP}{sym}" if suffix else sym)
        return f"{neg}{n}{NBSP}{unit}".rstrip()
    if len(sym) == 1 or sym.endswith("$"):
        return f"{neg}{sym}{n}{suffix}"
    return f"{neg}{sym}{NBSP}{n}{suffix}".strip()


def _as_date(d: Any) -> dt.date:
    if isinstance(d, dt.datetime):
        return d.date()
    if isinstance(d, dt.date):
        return d
    return dt.date.fromisoformat(str(d)[:10])


def fmt_date(d: Any, lang: str = "en") -> str:
    """``2026-09-03`` -> ``3 September 2026`` (en) / ``3 de septiembre de 2026`` (es)."""
    if d is None:
        return MISSING
    d = _as_date(d)
    month = MONTHS.get(lang, MONTHS["en"])[d.month - 1]
    if lang == "es":
        return f"{d.day} de {month} de {d.year}"
    return f"{d.day} {month} {d.year}"


def join_words(words: list[str], lang: str = "en") -> str:
    """``["a", "b", "c"]`` -> ``"a, b and c"`` in ``lang``."""
    if not words:
        return ""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + f" {t('chain_and', lang)} " + words[-1]


def fmt_quarter(q: str, lang: str = "en") -> str:
    """``2026Q3`` -> ``Q3 2026`` (en) / ``T3 2026`` (es, trimestre)."""
    q = str(q)
    if len(q) == 6 and q[4] == "Q":
        return f"{'T' if lang == 'es' else 'Q'}{q[5]} {q[:4]}"
    return q


def fmt_value(x: Any, kind: str, lang: str = "en", currency: str = "EUR") -> str:
    """Dispatch by kind: ``int``, ``num1``, ``num2``, ``pct``, ``pct0``, ``pct1``, ``money``,
    ``money_compact``, ``date``, ``quarter``, ``points``."""
    if kind in ("int", "num", "num0"):
        return fmt_number(x, lang, 0)
    if kind.startswith("num") and kind[3:].isdigit():
        return fmt_number(x, lang, int(kind[3:]))
    if kind == "pct":
        return fmt_pct(x, lang, 1)
    if kind.startswith("pct") and kind[3:].isdigit():
        return fmt_pct(x, lang, int(kind[3:]))
    if kind == "money":
        return fmt_money(x, currency, lang)
    if kind == "money_compact":
        return fmt_money(x, currency, lang, compact=True)
    if kind == "date":
        return fmt_date(x, lang)
    if kind == "quarter":
        return fmt_quarter(x, lang)
    if kind == "points":
        return fmt_points(x, lang)
    raise ValueError(f"unknown number format {kind!r}")


# --- executive summary (notebook 05, servicechain.summary) ------------------------------------
WORDS["en"].update({
    "sum_glance_headcount": "When {quarter} started the organisation had {headcount} employees.",
    "sum_glance_turnover": "Voluntary turnover was {rate} in the quarter ({exits} people chose to leave).",
    "sum_glance_turnover_full": (
        "Voluntary turnover was {rate} in the quarter, about {annual} a year: {exits} people chose to leave "
        "({from_start} who were here when the quarter started and {joined} who joined and left within it; "
        "{early} left within {days} days of hire or in the quarter they joined)."
    ),
    "sum_glance_turnover_rate": "Voluntary turnover was {rate} in the quarter.",
    "sum_glance_nps": "Customers gave an NPS of {nps} ({responses} responses).",
    "sum_glance_nps_plain": "Customers gave an NPS of {nps}.",
    "sum_glance_retention": "{rate} of last quarter's customers came back.",
    "sum_glance_none": "The quarter's headline numbers are not available.",
    "sum_actions_h": "The actions worth most",
    "sum_actions_title": "If the links found are causal, {label_mid} is the action worth most: about {p50} a year",
    "sum_action_item": "**{label}**: about **{p50}** a year after the programme's cost, likely between {p10} and {p90}.",
    "sum_action_item_p50": "**{label}**: about **{p50}** a year after the programme's cost.",
    "sum_action_people": "In people and customers: about {exits} fewer voluntary exits and {customers} more customers who come back each year.",
    "sum_action_exits": "In people: about {exits} fewer voluntary exits each year.",
    "sum_action_customers": "In customers: about {customers} more customers who come back each year.",
    "sum_action_parts": "Before its cost: {rep} fewer leavers to replace, {acq} customer acquisition spend avoided, {margin} customer margin kept.",
    "sum_action_placeholder": "Programme cost illustrative: replace it with your quote.",
    "sum_action_conservative": "Conservative case (every assumption at its cautious end): about {value}.",
    "sum_action_beyond": "Beyond the data: {units} of units are at that level today.",
    "sum_actions_fewer": "The money report priced fewer than three actions.",
    "sum_actions_combined": "Combining actions ({label}): about {p50} a year (likely between {p10} and {p90}).",
    "sum_actions_range": "The first figure is the middle estimate (P50); in 8 of 10 simulations the value fell inside the range given (P10 to P90). The figures rest on the money report's assumptions, among them that winning a new customer costs {multiple} times as much as keeping one: they are estimates, not promises.",
    "sum_actions_range_plain": "The first figure is the middle estimate (P50); in 8 of 10 simulations the value fell inside the range given (P10 to P90). The figures rest on the money report's assumptions: they are estimates, not promises.",
    "sum_chart_title": "Even at the low end of its range (P10), \"{label}\" is worth {p10} a year",
    "sum_chart_title_risky": "{label} is worth most, but the low end of its range (P10) is a loss",
    "sum_drv_engagement": "engagement",
    "sum_chart_x": "Net value per year ({currency}): middle estimate and P10–P90 range",
    "sum_chart_hover": "{label}: {p50} (P10 {p10}, P90 {p90})",
    "sum_findings_h": "What we found",
    "sum_ci": "95% confidence range: {range}",
    "sum_not_clear": "; the data are also compatible with no difference",
    "sum_ci_explained": "Each finding comes with a 95% confidence range: the values the data are compatible with. If the analysis were repeated on many comparable quarters, 95 of 100 ranges built this way would contain the true value. A narrow range means a precise finding; a range that includes \"no difference\" means the data cannot rule out that there is no relationship.",
    "sum_A_half": "about half as often as",
    "sum_A_twice": "about twice as often as",
    "sum_A_less": "{pct} less often than",
    "sum_A_more": "{pct} more often than",
    "sum_B_half": "about half as many",
    "sum_B_twice": "about twice as many",
    "sum_B_less": "{pct} fewer",
    "sum_B_more": "{pct} more",
    "sum_rr_fewer": "{a} to {b} fewer exits",
    "sum_rr_more": "{a} to {b} more exits",
    "sum_rr_mixed": "from {a} fewer to {b} more exits",
    "sum_f_exit_recognition": "**Employees recognised weekly leave {change} those who are not recognised at all**",
    "sum_f_exit_driver": "**Each extra point in how employees rate {what} (1–5 scale) goes with {change} voluntary exits**",
    "sum_what_recognition_per_month": "the recognition they receive",
    "sum_what_empowerment": "their empowerment",
    "sum_what_leadership": "their manager's leadership",
    "sum_what_voluntary_turnover_pct": "staff turnover",
    "sum_pts_up": "higher",
    "sum_pts_down": "lower",
    "sum_cust_up": "more",
    "sum_cust_down": "fewer",
    "sum_range_pts": "{lo} to {hi} NPS points",
    "sum_range_cust": "{lo} to {hi} customers per 100",
    "sum_f_nps_recognition": "**Units whose staff receive one more recognition a month each score about {x} NPS points {dir}** the next quarter",
    "sum_f_nps_driver": "**Units whose staff rate {what} one point higher score about {x} NPS points {dir}** the next quarter",
    "sum_f_nps_turnover": "**Each extra point of quarterly staff turnover goes with about {x} NPS points {dir}** the next quarter",
    "sum_f_cr_recognition": "**In units whose staff receive one more recognition a month each, about {x} {dir} customers in every 100 come back** the next quarter",
    "sum_f_cr_driver": "**In units whose staff rate {what} one point higher, about {x} {dir} customers in every 100 come back** the next quarter",
    "sum_f_cr_turnover": "**Each extra point of quarterly staff turnover goes with about {x} {dir} customers in every 100 coming back** the next quarter",
    "sum_f_mot": "**{touchpoint} is the moment of truth most closely linked to customers coming back:** 10 more NPS points there go with about {x} {dir} customers in every 100 coming back",
    "sum_tp_counter": "The counter",
    "sum_tp_phone": "The phone",
    "sum_tp_delivery": "Delivery",
    "sum_tp_web": "The website",
    "sum_tp_complaint": "Complaint handling",
    "sum_tp_other": "The \"{name}\" touchpoint",
    "sum_f_priority_act": (
        "**Act first on {acted}:** of the drivers that weigh most in the units' turnover, NPS and customers who come "
        "back (a descriptive weight) and are rated below the others ({drivers}; {lowest} is rated lowest, {mean} of 5), "
        "{acted} also has an estimated link to exits or customers whose 95% range excludes no effect."
    ),
    "sum_f_priority_none": (
        "{drivers} weigh most in the units' turnover, NPS and customers who come back (a descriptive weight) and are "
        "rated below the others ({lowest} lowest, {mean} of 5), but none has an estimated link to exits or customers "
        "clear enough to name it as the one to act on."
    ),
    "sum_f_mediation": "**About {share} of the link between employee experience and {outcome} runs through staff turnover**: teams with a better experience tend to lose fewer people, and units that lose fewer people tend to keep more customers",
    "sum_range_share": "{lo} to {hi}",
    "sum_f_mediation_negative": "**Staff turnover does not carry the link between employee experience and {outcome}**: the estimated share is {share}, the opposite of what the chain predicts",
    "sum_f_mediation_unclear": "We cannot tell whether staff turnover carries part of the link between employee experience and {outcome}: the estimated share is {share}, and its range includes none at all",
    "sum_f_mot_none": "No moment of truth stands out: the touchpoints' links with customers coming back overlap; the largest estimate is for {touchpoint}, where 10 more NPS points go with about {x} {dir} customers in every 100 coming back",
    "sum_outcome_customer_retention_pct": "customers who come back",
    "sum_outcome_nps": "NPS",
    "sum_drv_recognition_per_month": "recognition",
    "sum_drv_recognition": "recognition",
    "sum_drv_empowerment": "empowerment",
    "sum_drv_leadership": "leadership",
    "sum_drv_voluntary_turnover_pct": "keeping staff turnover down",
    "sum_causation_h": "How to read these findings",
    "sum_causation": "**Association, not proof of causation.** These findings come from observational data (what happened in the organisation), not from a controlled experiment.",
    "sum_timing_lagged": "The drivers were measured a quarter before the exits and the customer outcomes. That rules out the outcome coming first, but it does not prove cause: something else, such as workload, pay or the local job market, can move both.",
    "sum_timing_snapshot": "With a snapshot, the drivers and the exits were recorded at the same time, so the data cannot even show which came first; something else, such as workload, pay or the local job market, can move both.",
    "sum_causation_use": "The money figures assume the relationships are causal: use them to set priorities, and test actions with pilots before scaling them up.",
    "sum_missing_h": "Not available in this report",
    "sum_part_overview": "Headline numbers",
    "sum_part_retention": "Employee retention findings",
    "sum_part_loyalty": "Customer loyalty findings",
    "sum_part_chain": "Service-profit chain priorities",
    "sum_part_finance": "Money estimates",
    "sum_why_snapshot": "the data is an HR snapshot (one export without dates), which supports only the data-quality and retention reports.",
    "sum_why_not_run": "the report \"{report}\" produced no results in this run (it did not run or did not finish).",
    "sum_why_incomplete": "the report \"{report}\" ran, but the data were not enough for this part.",
    "sum_methods_h": "Methods and data quality",
    "sum_m_retention": "**Employee retention:** quarterly model of voluntary exits (discrete-time logistic regression; drivers measured the quarter before; errors clustered by unit); n = {n} person-quarters",
    "sum_m_retention_snapshot": "**Employee retention:** cross-sectional logistic regression of having left on the survey items (snapshot); n = {n} employees.",
    "sum_m_events": "{v} voluntary exits",
    "sum_m_people": "{v} people",
    "sum_m_units": "{v} units",
    "sum_m_auc": "Out-of-time check (trained on earlier quarters, tested on the latest): AUC {auc}, where 0.5 is chance and 1 a perfect ranking of who leaves.",
    "sum_m_loyalty": "**Customer loyalty:** unit-quarter regressions of NPS and of customers who come back on the previous quarter's drivers (quarter effects; errors clustered by unit; checked against unit fixed effects); n = {n} unit-quarters",
    "sum_m_chain": "**Service-profit chain:** mediation (how much of each driver's link with customers runs through staff retention) and relative importance of the drivers.",
    "sum_m_finance": "**Money:** P10, P50 and P90 from simulations that draw the model estimates and the assumptions from their ranges.",
    "sum_m_draws": "{draws} simulations.",
    "sum_m_customers": "Each customer kept is counted once: the cost of winning a replacement plus the margin lost until it is won, never more than the customer would have brought.",
    "sum_m_response": "**Survey response rate** in {quarter}: {rate}.",
    "sum_m_checks": "**Data checks:** {warnings} warnings; {rejected} rows set aside.",
    "sum_m_period": "**Period:** {first} to {last}.",
    "sum_m_privacy": "**Privacy:** aggregates only; no group smaller than {threshold} people appears in any report, and employee identifiers are pseudonymised.",
    "sum_no_results": "No results were found for {quarter}. Run the quarterly report first (servicechain run --data DIR --quarter {q} --out reports), then open this notebook again.",
    "sum_source_report": "Results read from the published report {path}.",
})
WORDS["es"].update({
    "sum_glance_headcount": "Al empezar el {quarter} la organización contaba con {headcount} empleados.",
    "sum_glance_turnover": "La rotación voluntaria fue del {rate} en el trimestre ({exits} personas se fueron por decisión propia).",
    "sum_glance_turnover_full": (
        "La rotación voluntaria fue del {rate} en el trimestre, unos {annual} al año: {exits} personas se fueron por "
        "decisión propia ({from_start} que ya estaban al empezar el trimestre y {joined} que entraron y se fueron "
        "dentro de él; {early} se fueron en sus primeros {days} días o en el trimestre en que entraron)."
    ),
    "sum_glance_turnover_rate": "La rotación voluntaria fue del {rate} en el trimestre.",
    "sum_glance_nps": "Los clientes dieron un NPS de {nps} ({responses} respuestas).",
    "sum_glance_nps_plain": "Los clientes dieron un NPS de {nps}.",
    "sum_glance_retention": "Volvió el {rate} de los clientes del trimestre anterior.",
    "sum_glance_none": "Las cifras principales del trimestre no están disponibles.",
    "sum_actions_h": "Las acciones de mayor valor",
    "sum_actions_title": "Si los vínculos hallados son causales, {label_mid} es la acción de mayor valor: unos {p50} al año",
    "sum_action_item": "**{label}**: unos **{p50}** al año, descontado el coste del programa; probablemente entre {p10} y {p90}.",
    "sum_action_item_p50": "**{label}**: unos **{p50}** al año, descontado el coste del programa.",
    "sum_action_people": "En personas y clientes: unas {exits} bajas voluntarias menos y {customers} clientes más que vuelven cada año.",
    "sum_action_exits": "En personas: unas {exits} bajas voluntarias menos cada año.",
    "sum_action_customers": "En clientes: unos {customers} clientes más que vuelven cada año.",
    "sum_action_parts": "Antes de su coste: {rep} por sustituir a menos personas, {acq} de gasto de captación de clientes evitado, {margin} de margen de clientes conservado.",
    "sum_action_placeholder": "Coste del programa ilustrativo: sustitúyalo por su presupuesto.",
    "sum_action_conservative": "Caso prudente (cada supuesto en su extremo cauto): unos {value}.",
    "sum_action_beyond": "Más allá de los datos: hoy el {units} de las unidades está en ese nivel.",
    "sum_actions_fewer": "El informe de dinero valoró menos de tres acciones.",
    "sum_actions_combined": "Combinando acciones ({label}): unos {p50} al año (probablemente entre {p10} y {p90}).",
    "sum_actions_range": "La primera cifra es la estimación central (P50); en 8 de cada 10 simulaciones el valor quedó dentro del rango indicado (de P10 a P90). Las cifras se basan en los supuestos del informe de dinero, entre ellos que captar un cliente nuevo cuesta {multiple} veces más que retener uno: son estimaciones, no promesas.",
    "sum_actions_range_plain": "La primera cifra es la estimación central (P50); en 8 de cada 10 simulaciones el valor quedó dentro del rango indicado (de P10 a P90). Las cifras se basan en los supuestos del informe de dinero: son estimaciones, no promesas.",
    "sum_chart_title": "Incluso en el extremo bajo de su rango (P10), «{label}» vale {p10} al año",
    "sum_chart_title_risky": "{label} es la de mayor valor, pero en el extremo bajo de su rango (P10) da pérdidas",
    "sum_drv_engagement": "el compromiso",
    "sum_chart_x": "Valor neto anual ({currency}): estimación central y rango P10–P90",
    "sum_chart_hover": "{label}: {p50} (P10 {p10}, P90 {p90})",
    "sum_findings_h": "Lo que hemos encontrado",
    "sum_ci": "rango de confianza del 95 %: {range}",
    "sum_not_clear": "; los datos también son compatibles con que no haya diferencia",
    "sum_ci_explained": "Cada hallazgo va acompañado de un rango de confianza del 95 %: los valores compatibles con los datos. Si se repitiera el análisis en muchos trimestres comparables, 95 de cada 100 rangos calculados así contendrían el valor real. Un rango estrecho indica un hallazgo preciso; un rango que incluye «ninguna diferencia» significa que los datos no permiten descartar que no haya relación.",
    "sum_A_half": "aproximadamente la mitad que",
    "sum_A_twice": "aproximadamente el doble que",
    "sum_A_less": "un {pct} menos que",
    "sum_A_more": "un {pct} más que",
    "sum_B_half": "aproximadamente la mitad de",
    "sum_B_twice": "aproximadamente el doble de",
    "sum_B_less": "un {pct} menos de",
    "sum_B_more": "un {pct} más de",
    "sum_rr_fewer": "entre un {a} y un {b} menos de bajas",
    "sum_rr_more": "entre un {a} y un {b} más de bajas",
    "sum_rr_mixed": "entre un {a} menos y un {b} más de bajas",
    "sum_f_exit_recognition": "**Los empleados con reconocimiento semanal se van {change} los que no reciben ninguno**",
    "sum_f_exit_driver": "**Cada punto más con que los empleados valoran {what} (escala de 1 a 5) va unido a {change} bajas voluntarias**",
    "sum_what_recognition_per_month": "el reconocimiento que reciben",
    "sum_what_empowerment": "su empoderamiento",
    "sum_what_leadership": "el liderazgo de su responsable",
    "sum_what_voluntary_turnover_pct": "la rotación de la plantilla",
    "sum_pts_up": "más",
    "sum_pts_down": "menos",
    "sum_cust_up": "más",
    "sum_cust_down": "menos",
    "sum_range_pts": "de {lo} a {hi} puntos de NPS",
    "sum_range_cust": "de {lo} a {hi} clientes de cada 100",
    "sum_f_nps_recognition": "**Las unidades en las que cada empleado recibe un reconocimiento más al mes obtienen unos {x} puntos {dir} de NPS** el trimestre siguiente",
    "sum_f_nps_driver": "**Las unidades cuya plantilla valora {what} un punto más obtienen unos {x} puntos {dir} de NPS** el trimestre siguiente",
    "sum_f_nps_turnover": "**Cada punto más de rotación trimestral de la plantilla va unido a unos {x} puntos {dir} de NPS** el trimestre siguiente",
    "sum_f_cr_recognition": "**En las unidades en las que cada empleado recibe un reconocimiento más al mes vuelven unos {x} clientes {dir} de cada 100** el trimestre siguiente",
    "sum_f_cr_driver": "**En las unidades cuya plantilla valora {what} un punto más vuelven unos {x} clientes {dir} de cada 100** el trimestre siguiente",
    "sum_f_cr_turnover": "**Cada punto más de rotación trimestral de la plantilla va unido a unos {x} clientes {dir} de cada 100 que vuelven** el trimestre siguiente",
    "sum_f_mot": "**{touchpoint} es el momento de la verdad más ligado a los clientes que vuelven:** 10 puntos más de NPS ahí van unidos a unos {x} clientes {dir} de cada 100 que vuelven",
    "sum_tp_counter": "El mostrador",
    "sum_tp_phone": "El teléfono",
    "sum_tp_delivery": "La entrega",
    "sum_tp_web": "La web",
    "sum_tp_complaint": "La gestión de reclamaciones",
    "sum_tp_other": "El punto de contacto «{name}»",
    "sum_f_priority_act": (
        "**Actuar primero en {acted}:** de los factores que más pesan en la rotación, el NPS y los clientes que vuelven "
        "de las unidades (un peso descriptivo) y que peor se valoran ({drivers}; {lowest} es el peor valorado, {mean} "
        "de 5), {acted} tiene además un vínculo estimado con las bajas o los clientes cuyo rango del 95 % excluye la "
        "ausencia de efecto."
    ),
    "sum_f_priority_none": (
        "{drivers} son los factores que más pesan en la rotación, el NPS y los clientes que vuelven de las unidades "
        "(un peso descriptivo) y que peor se valoran ({lowest} el peor, {mean} de 5), pero ninguno tiene un vínculo "
        "estimado con las bajas o los clientes lo bastante claro como para señalarlo como el primero en el que actuar."
    ),
    "sum_f_mediation": "**Aproximadamente el {share} de la relación entre la experiencia del empleado y {outcome} pasa por la rotación de la plantilla**: los equipos con mejor experiencia tienden a perder menos personas, y las unidades que pierden menos personas tienden a conservar más clientes",
    "sum_range_share": "del {lo} al {hi}",
    "sum_f_mediation_negative": "**La rotación de la plantilla no transmite la relación entre la experiencia del empleado y {outcome}**: la proporción estimada es del {share}, lo contrario de lo que predice la cadena",
    "sum_f_mediation_unclear": "No podemos saber si la rotación de la plantilla transmite parte de la relación entre la experiencia del empleado y {outcome}: la proporción estimada es del {share} y su rango incluye el cero",
    "sum_f_mot_none": "Ningún momento de la verdad destaca: los vínculos de los puntos de contacto con los clientes que vuelven se solapan; la mayor estimación corresponde a {touchpoint}, donde 10 puntos más de NPS van unidos a unos {x} clientes {dir} de cada 100 que vuelven",
    "sum_outcome_customer_retention_pct": "los clientes que vuelven",
    "sum_outcome_nps": "el NPS",
    "sum_drv_recognition_per_month": "el reconocimiento",
    "sum_drv_recognition": "el reconocimiento",
    "sum_drv_empowerment": "el empoderamiento",
    "sum_drv_leadership": "el liderazgo",
    "sum_drv_voluntary_turnover_pct": "contener la rotación de la plantilla",
    "sum_causation_h": "Cómo leer estos hallazgos",
    "sum_causation": "**Asociación, no prueba de causalidad.** Estos hallazgos proceden de datos observacionales (lo que ocurrió en la organización), no de un experimento controlado.",
    "sum_timing_lagged": "Los factores se midieron un trimestre antes que las bajas y los resultados con clientes. Eso descarta que el resultado llegara primero, pero no demuestra la causa: otros factores, como la carga de trabajo, el salario o el mercado laboral local, pueden mover ambas cosas.",
    "sum_timing_snapshot": "En una foto fija, los factores y las bajas se registraron a la vez, así que los datos ni siquiera muestran qué fue primero; otros factores, como la carga de trabajo, el salario o el mercado laboral local, pueden mover ambas cosas.",
    "sum_causation_use": "Las cifras económicas suponen que las relaciones son causales: úselas para fijar prioridades y pruebe las acciones con pilotos antes de extenderlas.",
    "sum_missing_h": "No disponible en este informe",
    "sum_part_overview": "Cifras principales",
    "sum_part_retention": "Hallazgos sobre la retención de empleados",
    "sum_part_loyalty": "Hallazgos sobre la lealtad de los clientes",
    "sum_part_chain": "Prioridades de la cadena de servicio-beneficio",
    "sum_part_finance": "Estimaciones económicas",
    "sum_why_snapshot": "los datos son una foto fija de RR. HH. (una exportación sin fechas), que solo permite los informes de calidad de datos y de retención.",
    "sum_why_not_run": "el informe «{report}» no produjo resultados en esta ejecución (no se ejecutó o no terminó).",
    "sum_why_incomplete": "el informe «{report}» se ejecutó, pero los datos no bastaron para esta parte.",
    "sum_methods_h": "Métodos y calidad de los datos",
    "sum_m_retention": "**Retención de empleados:** modelo trimestral de bajas voluntarias (regresión logística de tiempo discreto; factores medidos el trimestre anterior; errores agrupados por unidad); n = {n} trimestres-persona",
    "sum_m_retention_snapshot": "**Retención de empleados:** regresión logística transversal de haberse ido sobre las preguntas de la encuesta (foto fija); n = {n} empleados.",
    "sum_m_events": "{v} bajas voluntarias",
    "sum_m_people": "{v} personas",
    "sum_m_units": "{v} unidades",
    "sum_m_auc": "Validación fuera de tiempo (entrenado con trimestres anteriores y probado con el último): AUC de {auc}, donde 0,5 es el azar y 1 una ordenación perfecta de quién se va.",
    "sum_m_loyalty": "**Lealtad de clientes:** regresiones por unidad y trimestre del NPS y de los clientes que vuelven sobre los factores del trimestre anterior (efectos de trimestre; errores agrupados por unidad; contrastadas con efectos fijos de unidad); n = {n} unidades-trimestre",
    "sum_m_chain": "**Cadena de servicio-beneficio:** mediación (qué parte de la relación de cada factor con los clientes pasa por la retención de la plantilla) e importancia relativa de los factores.",
    "sum_m_finance": "**Dinero:** P10, P50 y P90 a partir de simulaciones que toman las estimaciones de los modelos y los supuestos dentro de sus rangos.",
    "sum_m_draws": "{draws} simulaciones.",
    "sum_m_customers": "Cada cliente retenido cuenta una vez: lo que cuesta captar un sustituto más el margen perdido hasta captarlo, nunca más de lo que el cliente habría aportado.",
    "sum_m_response": "**Tasa de respuesta de la encuesta** en el {quarter}: {rate}.",
    "sum_m_checks": "**Controles de datos:** {warnings} avisos; {rejected} filas descartadas.",
    "sum_m_period": "**Periodo:** del {first} al {last}.",
    "sum_m_privacy": "**Privacidad:** solo datos agregados; ningún grupo de menos de {threshold} personas aparece en los informes y los identificadores de empleados están seudonimizados.",
    "sum_no_results": "No se encontraron resultados para {quarter}. Ejecute primero el informe trimestral (servicechain run --data DIR --quarter {q} --out reports) y vuelva a abrir este cuaderno.",
    "sum_source_report": "Resultados leídos del informe publicado {path}.",
})

# --- data quality notebook (00) -----------------------------------------------------------------
_DQ_EN = {
    "dq_intro": (
        "What was read, what was set aside and how complete the data is, before any model is fitted. Every number "
        "on this page is an aggregate (tables, quarters, survey questions); no individual rows are shown. The same "
        "checks can be run on their own with the command `servicechain validate --data DIR`."
    ),
    "dq_kind": (
        "- Data: **{kind}**, as of **{as_of}**\n- Latest complete quarter: **{latest}**\n"
        "- Tables read: **{n:int}**; rows kept: **{kept:int}**; rows set aside: **{rejected:int}**"
    ),
    "dq_no_latest": "none (snapshot)",
    "dq_h_tables": "Tables read",
    "dq_tables_text": (
        "One row per table: the file it came from, the rows kept for the analysis and the rows set aside. Rows are "
        "set aside by a warning (for example a survey answer submitted twice on the same day, or a response with no "
        "question answered); with an error the data would not have loaded at all."
    ),
    "dq_col_table": "Table",
    "dq_col_file": "File",
    "dq_col_rows_kept": "Rows kept",
    "dq_col_rows_rejected": "Rows set aside",
    "dq_col_severity": "Severity",
    "dq_col_column": "Column",
    "dq_col_what": "What",
    "dq_col_n_rows": "Rows",
    "dq_col_example_rows": "Example rows",
    "dq_tbl_units": "Units",
    "dq_tbl_employees": "Employees",
    "dq_tbl_survey": "Survey",
    "dq_tbl_recognitions": "Recognitions",
    "dq_tbl_customer_feedback": "Customer feedback",
    "dq_tbl_customer_activity": "Customer activity",
    "dq_tbl_trainings": "Trainings",
    "dq_tbl_internal_service": "Internal service ratings",
    "dq_tbl_snapshot": "HR snapshot",
    "dq_sev_warning": "warning",
    "dq_sev_error": "error",
    "dq_h_warnings": "Warnings",
    "dq_warnings_text": (
        "Problems that did not stop the analysis, with how many rows each concerns. The rows themselves are "
        "listed for the analyst by `servicechain validate`, not on this page."
    ),
    "dq_messages_note": "The descriptions are written by the data validator, in English.",
    "dq_no_warnings": "No warnings: every check passed.",
    "dq_h_coverage": "Coverage per quarter",
    "dq_coverage_text": (
        "Rows per table and quarter. The colour compares each quarter with the table's usual quarter (its median): "
        "a cell turns orange, then red, as the quarter falls short of it, whatever the size of the table. A quarter "
        "with far fewer rows than its neighbours usually means an export that stopped early or a survey wave that "
        "was not loaded; the latest quarter is often incomplete, which is why the analysis uses the latest "
        "*complete* quarter."
    ),
    "dq_title_cov_ok": "No gaps: every table has at least half its usual rows in each quarter from {q0} to {q1}",
    "dq_title_cov_gap1": "{which} has less than half the table's usual rows",
    "dq_title_cov_gaps": "{n} table-quarters have less than half their table's usual rows: {which}",
    "dq_cov_hover": "{table}, {quarter}: {rows} rows ({share} of the usual quarter)",
    "dq_cov_colorbar": "Share of the usual rows",
    "dq_no_coverage": "A snapshot has no dates, so there is no coverage by quarter.",
    "dq_h_response": "Survey response rate",
    "dq_response_text": (
        "Respondents in each quarter divided by the headcount on the quarter's first day. People hired during the "
        "quarter can answer too, so a rate slightly above 100% is possible. Low response rates make the survey "
        "less representative of the whole workforce."
    ),
    "dq_title_rr_one": "Survey response was {rate} in {q}",
    "dq_title_rr_steady": "Survey response held between {lo} and {hi} every quarter",
    "dq_title_rr_range": "Survey response ranged from {lo} ({q_lo}) to {hi} ({q_hi})",
    "dq_rr_hover": "{q}: {rate} ({n} of {head})",
    "dq_axis_rr": "Response rate",
    "dq_no_rr": "No response rate: it needs a dated survey and the employee table.",
    "dq_h_missing": "Blank answers per question",
    "dq_missing_text": (
        "Share of survey responses (or snapshot rows) that left each question blank. Blank answers are allowed; a "
        "question that is mostly blank carries little information and its estimates will have wide ranges."
    ),
    "dq_title_miss_none": "No blank answers: every question was answered in every response",
    "dq_title_miss_low": "Few blank answers: at most {pct} for any question ({item})",
    "dq_title_miss_high": "{item} is left blank in {pct} of answers, more than any other question",
    "dq_miss_hover": "{item}: {pct} blank ({n} of {total})",
    "dq_axis_missing": "Share of answers left blank",
    "dq_no_items": "No survey questions found.",
    "dq_snapshot": (
        "**Snapshot data.** One HR export without dates: the drivers and whether someone left were recorded at the "
        "same time, so the reports can only show cross-sectional associations (who left vs. how satisfied people "
        "say they are), not what came first. There are no quarterly trends and no link to customers."
    ),
}
_DQ_ES = {
    "dq_intro": (
        "Qué se ha leído, qué se ha descartado y hasta qué punto están completos los datos, antes de ajustar ningún "
        "modelo. Todas las cifras de esta página son agregados (tablas, trimestres, preguntas de la encuesta); no se "
        "muestra ninguna fila individual. Los mismos controles pueden ejecutarse por separado con la orden "
        "`servicechain validate --data DIR`."
    ),
    "dq_kind": (
        "- Datos: **{kind}**, a fecha de **{as_of}**\n- Último trimestre completo: **{latest}**\n"
        "- Tablas leídas: **{n:int}**; filas usadas: **{kept:int}**; filas descartadas: **{rejected:int}**"
    ),
    "dq_no_latest": "ninguno (foto fija)",
    "dq_h_tables": "Tablas leídas",
    "dq_tables_text": (
        "Una fila por tabla: el archivo del que procede, las filas que se usan en el análisis y las filas "
        "descartadas. Una fila se descarta por un aviso (por ejemplo, una respuesta a la encuesta enviada dos veces "
        "el mismo día o una respuesta sin ninguna pregunta contestada); con un error, los datos ni siquiera se "
        "habrían cargado."
    ),
    "dq_col_table": "Tabla",
    "dq_col_file": "Archivo",
    "dq_col_rows_kept": "Filas usadas",
    "dq_col_rows_rejected": "Filas descartadas",
    "dq_col_severity": "Gravedad",
    "dq_col_column": "Columna",
    "dq_col_what": "Qué ocurre",
    "dq_col_n_rows": "Filas",
    "dq_col_example_rows": "Filas de ejemplo",
    "dq_tbl_units": "Unidades",
    "dq_tbl_employees": "Empleados",
    "dq_tbl_survey": "Encuesta",
    "dq_tbl_recognitions": "Reconocimientos",
    "dq_tbl_customer_feedback": "Opiniones de clientes",
    "dq_tbl_customer_activity": "Actividad de clientes",
    "dq_tbl_trainings": "Formaciones",
    "dq_tbl_internal_service": "Valoraciones del servicio interno",
    "dq_tbl_snapshot": "Foto fija de RR. HH.",
    "dq_sev_warning": "aviso",
    "dq_sev_error": "error",
    "dq_h_warnings": "Avisos",
    "dq_warnings_text": (
        "Problemas que no impidieron el análisis, con cuántas filas afecta cada uno. Las filas concretas las "
        "enumera `servicechain validate` para el analista, no esta página."
    ),
    "dq_messages_note": "Las descripciones las escribe el validador de datos y están en inglés.",
    "dq_no_warnings": "Sin avisos: se superaron todos los controles.",
    "dq_h_coverage": "Cobertura por trimestre",
    "dq_coverage_text": (
        "Filas por tabla y trimestre. El color compara cada trimestre con el trimestre habitual de la tabla (su "
        "mediana): una celda se vuelve naranja, y luego roja, cuanto más se queda corto el trimestre, sea cual sea el "
        "tamaño de la tabla. Un trimestre con muchas menos filas que los de alrededor suele indicar una exportación "
        "que se cortó antes de tiempo o una oleada de la encuesta que no se cargó; el último trimestre suele estar "
        "incompleto, y por eso el análisis usa el último trimestre *completo*."
    ),
    "dq_title_cov_ok": "Sin huecos: cada tabla tiene al menos la mitad de sus filas habituales en cada trimestre del {q0} al {q1}",
    "dq_title_cov_gap1": "{which} tiene menos de la mitad de las filas habituales de la tabla",
    "dq_title_cov_gaps": "{n} combinaciones de tabla y trimestre tienen menos de la mitad de las filas habituales de su tabla: {which}",
    "dq_cov_hover": "{table}, {quarter}: {rows} filas ({share} del trimestre habitual)",
    "dq_cov_colorbar": "Proporción de las filas habituales",
    "dq_no_coverage": "Una foto fija no tiene fechas, así que no hay cobertura por trimestre.",
    "dq_h_response": "Tasa de respuesta de la encuesta",
    "dq_response_text": (
        "Personas que respondieron en cada trimestre divididas entre la plantilla del primer día del trimestre. "
        "Quienes se incorporan durante el trimestre también pueden responder, así que es posible una tasa algo "
        "superior al 100 %. Con tasas de respuesta bajas, la encuesta representa peor al conjunto de la plantilla."
    ),
    "dq_title_rr_one": "La tasa de respuesta de la encuesta fue del {rate} en el {q}",
    "dq_title_rr_steady": "La tasa de respuesta de la encuesta se mantuvo entre el {lo} y el {hi} todos los trimestres",
    "dq_title_rr_range": "La tasa de respuesta de la encuesta osciló entre el {lo} ({q_lo}) y el {hi} ({q_hi})",
    "dq_rr_hover": "{q}: {rate} ({n} de {head})",
    "dq_axis_rr": "Tasa de respuesta",
    "dq_no_rr": "Sin tasa de respuesta: hace falta una encuesta con fechas y la tabla de empleados.",
    "dq_h_missing": "Respuestas en blanco por pregunta",
    "dq_missing_text": (
        "Proporción de respuestas a la encuesta (o de filas de la foto fija) que dejaron cada pregunta en blanco. Se "
        "admiten respuestas en blanco; una pregunta que casi nadie contesta aporta poca información y sus "
        "estimaciones tendrán rangos amplios."
    ),
    "dq_title_miss_none": "Ninguna respuesta en blanco: todas las preguntas se contestaron en todas las respuestas",
    "dq_title_miss_low": "Pocas respuestas en blanco: como máximo el {pct} en cualquier pregunta ({item})",
    "dq_title_miss_high": "{item} se deja en blanco en el {pct} de las respuestas, más que ninguna otra pregunta",
    "dq_miss_hover": "{item}: {pct} en blanco ({n} de {total})",
    "dq_axis_missing": "Proporción de respuestas en blanco",
    "dq_no_items": "No se encontraron preguntas de encuesta.",
    "dq_snapshot": (
        "**Datos de foto fija.** Una única exportación de RR. HH. sin fechas: los factores y si la persona se fue se "
        "registraron a la vez, así que los informes solo pueden mostrar asociaciones transversales (quién se fue "
        "frente a lo satisfechas que dicen estar las personas), no qué ocurrió primero. No hay tendencias por "
        "trimestre ni relación con los clientes."
    ),
}
_add_words(_DQ_EN, _DQ_ES)

# --- preconditions: why a part of the suite cannot run on this data (servicechain.preconditions) ---
_PRE_EN = {
    "pre_ret_quarters": "retention needs surveys in at least 2 quarters; found {n}",
    "pre_ret_rows": ("the retention model needs at least {min_rows} person-quarters with last quarter's survey "
                     "answers and {min_exits} voluntary exits among them; found {rows} and {exits}"),
    "pre_ret_oot_quarters": ("retention's out-of-time check (fit on earlier quarters, scored on the last) needs "
                             "surveys in at least 3 quarters; found {n}"),
    "pre_ret_oot_rows": ("retention's out-of-time check needs at least {min_rows} person-quarters and {min_exits} "
                         "voluntary exits before {test_quarter}; found {rows} and {exits}"),
    "pre_loy_quarters": "customer loyalty needs surveys in at least 2 quarters; found {n}",
    "pre_loy_rows": ("the {outcome_word} model needs at least {need} unit-quarters with last quarter's survey, in "
                     "at least {min_units} units; found {rows} in {units} units"),
    "pre_loy_within": ("the {outcome_word} model within units needs at least {need} unit-quarters with last "
                       "quarter's survey from units seen in at least 2 such quarters (surveys in at least 3 "
                       "quarters), in at least {min_units} units; found {rows} in {units} units"),
    "pre_fin": "money needs the retention and customer models: {why}",
    "pre_error": "the data are not enough for this part: {message}",
    "pre_not_run_title": "{title} (not run: too little data)",
    "pre_snap_rows": ("retention on an HR snapshot needs at least {min_rows} people with every item and tenure "
                      "and {min_left} leavers among them; found {rows} and {left}"),
    "pre_w_nps": "NPS",
    "pre_w_customer_retention": "customer retention",
    "pre_skipped_md": ("**This part of the report was not run on this data:** {reason}.\n\n"
                       "The other parts are not affected. `servicechain validate` lists what each part needs."),
}
_PRE_ES = {
    "pre_ret_quarters": "la retención necesita encuestas en al menos 2 trimestres; hay {n}",
    "pre_ret_rows": ("el modelo de retención necesita al menos {min_rows} persona-trimestres con respuestas a la "
                     "encuesta del trimestre anterior y {min_exits} bajas voluntarias entre ellos; hay {rows} y {exits}"),
    "pre_ret_oot_quarters": ("la validación fuera de muestra de la retención (ajuste en trimestres anteriores, "
                             "evaluación en el último) necesita encuestas en al menos 3 trimestres; hay {n}"),
    "pre_ret_oot_rows": ("la validación fuera de muestra de la retención necesita al menos {min_rows} "
                         "persona-trimestres y {min_exits} bajas voluntarias antes de {test_quarter}; hay {rows} y {exits}"),
    "pre_loy_quarters": "la lealtad de clientes necesita encuestas en al menos 2 trimestres; hay {n}",
    "pre_loy_rows": ("el modelo de {outcome_word} necesita al menos {need} unidad-trimestres con la encuesta del "
                     "trimestre anterior, en al menos {min_units} unidades; hay {rows} en {units} unidades"),
    "pre_loy_within": ("el modelo de {outcome_word} dentro de cada unidad necesita al menos {need} "
                       "unidad-trimestres con la encuesta del trimestre anterior de unidades vistas en al menos 2 "
                       "de esos trimestres (encuestas en al menos 3 trimestres), en al menos {min_units} unidades; "
                       "hay {rows} en {units} unidades"),
    "pre_fin": "el dinero necesita los modelos de retención y de clientes: {why}",
    "pre_error": "los datos no bastan para esta parte: {message}",
    "pre_not_run_title": "{title} (no ejecutado: datos insuficientes)",
    "pre_snap_rows": ("la retención con una foto de RR. HH. necesita al menos {min_rows} personas con todas las "
                      "preguntas y la antigüedad, y {min_left} bajas entre ellas; hay {rows} y {left}"),
    "pre_w_nps": "NPS",
    "pre_w_customer_retention": "retención de clientes",
    "pre_skipped_md": ("**Esta parte del informe no se ha ejecutado con estos datos:** {reason}.\n\n"
                       "Las demás partes no se ven afectadas. `servicechain validate` indica qué necesita cada parte."),
}
_add_words(_PRE_EN, _PRE_ES)

# --- small-sample inference on the retention (01) and loyalty (02) pages (issue 12) -------------------
_INF_EN = {
    "loy_method": (
        "**How the ranges are computed.** Errors are clustered by unit with the CR2 small-sample correction "
        "(Bell and McCaffrey) and t critical values with Satterthwaite degrees of freedom, so the 95% ranges stay "
        "honest when there are few units."
    ),
    "loy_few_units": (
        "**Few units.** The NPS model rests on {n_units:int} units, fewer than {min_units:int}, so the ranges are wide "
        "and only large effects can be told apart from zero: with {n_units:int} units, an NPS effect smaller than "
        "{nps} cannot be told from zero, nor a customer-retention effect smaller than {cr} (the smallest effect "
        "detected 80% of the time at the 5% level, from this organisation's own data)."
    ),
    "loy_mde_nps": "{value} points for {driver}",
    "loy_mde_cr": "{value} pp for {driver}",
    "ret_method": (
        "**How the ranges are computed.** Errors are clustered by unit, with t critical values on {df:int} degrees "
        "of freedom (the number of units minus one), which widens the ranges when there are few units. The change "
        "in annual exit probability is averaged over the {people:int} people at risk in {quarter:quarter} who "
        "answered the survey the quarter before (the current workforce)."
    ),
    "ret_few_units": (
        "**Few units.** The model rests on {n_clusters:int} units, fewer than {min_units:int}: the ranges are wide and "
        "only large effects can be told apart from zero."
    ),
    "ret_few_events": (
        "**Few exits for the model's size.** {n_events:int} voluntary exits for {n_params:int} estimated quantities "
        "({epv:num1} per quantity, fewer than {min_epv:int}). With so few exits a logit's estimates tend to lie too "
        "far from zero and its ranges to be too narrow: read the effects as indications, and check them again when "
        "more quarters are in."
    ),
}
_INF_ES = {
    "loy_method": (
        "**Cómo se calculan los márgenes.** Los errores se agrupan por unidad con la corrección CR2 para muestras "
        "pequeñas (Bell y McCaffrey) y valores críticos t con grados de libertad de Satterthwaite, para que los "
        "márgenes del 95 % sigan siendo fiables con pocas unidades."
    ),
    "loy_few_units": (
        "**Pocas unidades.** El modelo de NPS se basa en {n_units:int} unidades, menos de {min_units:int}, así que "
        "los márgenes son amplios y solo los efectos grandes se distinguen de cero: con {n_units:int} unidades, un "
        "efecto en el NPS menor que {nps} no se distingue de cero, ni un efecto en la retención de clientes menor que "
        "{cr} (el menor efecto que se detecta el 80 % de las veces al nivel del 5 %, con los datos de esta organización)."
    ),
    "loy_mde_nps": "{value} puntos en {driver}",
    "loy_mde_cr": "{value} pp en {driver}",
    "ret_method": (
        "**Cómo se calculan los márgenes.** Los errores se agrupan por unidad, con valores críticos t de {df:int} "
        "grados de libertad (el número de unidades menos uno), lo que amplía los márgenes cuando hay pocas unidades. "
        "El cambio en la probabilidad anual de salida se promedia sobre las {people:int} personas en riesgo en "
        "{quarter:quarter} que respondieron la encuesta el trimestre anterior (la plantilla actual)."
    ),
    "ret_few_units": (
        "**Pocas unidades.** El modelo se basa en {n_clusters:int} unidades, menos de {min_units:int}: los márgenes "
        "son amplios y solo los efectos grandes se distinguen de cero."
    ),
    "ret_few_events": (
        "**Pocas salidas para el tamaño del modelo.** {n_events:int} salidas voluntarias para {n_params:int} "
        "cantidades estimadas ({epv:num1} por cantidad, menos de {min_epv:int}). Con tan pocas salidas, las "
        "estimaciones de un logit tienden a alejarse demasiado de cero y sus márgenes a ser demasiado estrechos: "
        "lea los efectos como indicios y vuelva a comprobarlos cuando haya más trimestres."
    ),
}
_add_words(_INF_EN, _INF_ES)

# --- page weight and the board pack (issue 13) ------------------------------------------------------
_PACK_EN = {
    "noscript_charts": (
        "The charts on this page need scripts, which this viewer blocks; open the file in a web browser to see "
        "them. Charts on this page: {titles}."
    ),
    "fallback_series": "Series",
    "pack_title": "Board pack",
    "pack_contents": "Contents",
    "pack_forward": (
        "To send this report by email, forward {pack}: one file with every page; this index on its own has "
        "links to pages that do not travel with it."
    ),
    "pack_pdf_note": "The printed board pack ({pdf}) has the headline, the executive summary and the money.",
}
_PACK_ES = {
    "noscript_charts": (
        "Los gráficos de esta página necesitan scripts, que este visor bloquea; abra el archivo en un navegador "
        "para verlos. Gráficos de esta página: {titles}."
    ),
    "fallback_series": "Serie",
    "pack_title": "Dosier para el consejo",
    "pack_contents": "Contenido",
    "pack_forward": (
        "Para enviar este informe por correo, reenvíe {pack}: un solo archivo con todas las páginas; este índice "
        "solo tiene enlaces a páginas que no viajan con él."
    ),
    "pack_pdf_note": "El dosier impreso ({pdf}) recoge el titular, el resumen ejecutivo y el dinero.",
}
_add_words(_PACK_EN, _PACK_ES)
