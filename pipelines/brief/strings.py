"""The committee brief's words in English and Arabic (one entry per phrase; both languages side by side so
that a missing translation shows as a failing test, not a blank)."""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    "title": {"en": "Results framework: progress brief for the steering committee",
              "ar": "إطار النتائج: موجز التقدم للجنة التوجيهية"},
    "programme": {"en": "Decentralization programme, Iraq: federal government, governorates and the Kurdistan Region",
                  "ar": "برنامج اللامركزية في العراق: الحكومة الاتحادية والمحافظات وإقليم كردستان"},
    "data_as_of": {"en": "Data as of", "ar": "البيانات حتى"},
    "snapshot": {"en": "Snapshot", "ar": "اللقطة"},
    "run": {"en": "Run", "ar": "التشغيل"},
    "period": {"en": "Period up to", "ar": "الفترة حتى"},
    "period_col": {"en": "Period", "ar": "الفترة"},
    "framework_version": {"en": "Results framework version", "ar": "إصدار إطار النتائج"},
    "provisional_out": {"en": "Provisional survey waves are left out.", "ar": "استُبعدت جولات المسح غير المعتمدة."},
    "provisional_in": {"en": "Provisional survey waves are included and marked (P).",
                       "ar": "أُدرجت جولات المسح غير المعتمدة مع الإشارة إليها بـ (P)."},
    "synthetic": {"en": "SYNTHETIC DEMO DATA: not real survey, budget or training figures.",
                  "ar": "بيانات تجريبية مصطنعة: ليست أرقام مسوح أو موازنات أو تدريب حقيقية."},
    "scorecard": {"en": "Scorecard: national", "ar": "بطاقة الأداء: على المستوى الوطني"},
    "scorecard_gov": {"en": "Scorecard: by governorate", "ar": "بطاقة الأداء: حسب المحافظة"},
    "indicator": {"en": "Indicator", "ar": "المؤشر"},
    "level": {"en": "Level", "ar": "المستوى"},
    "baseline": {"en": "Baseline", "ar": "خط الأساس"},
    "target": {"en": "Target", "ar": "الهدف"},
    "actual": {"en": "Actual (95% CI)", "ar": "الفعلي (فترة ثقة 95%)"},
    "progress": {"en": "% of distance", "ar": "% من المسافة"},
    "status": {"en": "Status", "ar": "الحالة"},
    "governorate": {"en": "Governorate", "ar": "المحافظة"},
    "target_met": {"en": "Target met", "ar": "تحقق الهدف"},
    "not_met": {"en": "Not met", "ar": "لم يتحقق"},
    "too_close_to_call": {"en": "Too close to call", "ar": "لا يمكن الحسم"},
    "no_status": {"en": "No status", "ar": "بلا حالة"},
    "suppressed": {"en": "suppressed", "ar": "محجوب"},
    "provisional": {"en": "provisional", "ar": "غير معتمد"},
    "no_data": {"en": "no data yet", "ar": "لا بيانات بعد"},
    "outcome": {"en": "Outcome", "ar": "نتيجة"},
    "output": {"en": "Output", "ar": "مخرج"},
    "goal": {"en": "Goal", "ar": "الهدف العام"},
    "map_title": {"en": "Map", "ar": "خريطة"},
    "map_note": {"en": "Status of each governorate against its target. Grey: no status (too few respondents to publish, "
                       "provisional or no data). Halabja lies inside Al-Sulaymaniyah's COD-AB 2019 outline; its status is "
                       "in the table. Boundaries: OCHA COD-AB 2019, simplified; schematic, not authoritative.",
                 "ar": "حالة كل محافظة مقارنة بهدفها. الرمادي: بلا حالة (عدد المستجيبين أقل من حد النشر، أو جولة غير معتمدة، "
                       "أو لا بيانات). تقع حلبجة داخل حدود السليمانية في COD-AB 2019؛ حالتها في الجدول. الحدود: OCHA COD-AB 2019 "
                       "مبسطة؛ خريطة توضيحية وليست مرجعية."},
    "trends": {"en": "Trends", "ar": "الاتجاهات"},
    "trend_legend": {"en": "Dot: actual with its 95% confidence interval. Diamond: target. Square and dashed line: baseline.",
                     "ar": "النقطة: القيمة الفعلية مع فترة الثقة 95%. المعيّن: الهدف. المربع والخط المتقطع: خط الأساس."},
    "budget": {"en": "Budget execution", "ar": "تنفيذ الموازنة"},
    "budget_text": {"en": "National execution rate (expenditure / original allocation, all governorates):",
                    "ar": "نسبة التنفيذ الوطنية (المصروف الفعلي / التخصيص الأصلي، جميع المحافظات):"},
    "fiscal_year": {"en": "Fiscal year", "ar": "السنة المالية"},
    "execution_rate": {"en": "Execution rate", "ar": "نسبة التنفيذ"},
    "training": {"en": "Training outputs", "ar": "مخرجات التدريب"},
    "track": {"en": "Track", "ar": "المسار"},
    "cohort": {"en": "Cohort", "ar": "الدفعة"},
    "trained": {"en": "Trained", "ar": "المتدربون"},
    "completed": {"en": "Completed", "ar": "أكملوا"},
    "women": {"en": "Women", "ar": "النساء"},
    "gain": {"en": "Knowledge gain, points (95% CI)", "ar": "الزيادة في المعرفة بالنقاط (فترة ثقة 95%)"},
    "fiscal_federalism": {"en": "Fiscal federalism and decentralization", "ar": "الفيدرالية المالية واللامركزية"},
    "resilience": {"en": "Resilience building", "ar": "بناء القدرة على الصمود"},
    "all": {"en": "All", "ar": "الكل"},
    "all_tracks": {"en": "Both tracks", "ar": "المساران معاً"},
    "meaning": {"en": "What the numbers mean", "ar": "ماذا تعني الأرقام"},
    "meaning_status": {
        "en": "Status. A survey estimate comes from a sample, so it has a 95% confidence interval (CI). An indicator is "
              "marked target met only when the whole CI lies on the good side of the target, not met only when the whole "
              "CI lies on the bad side, and too close to call when the CI crosses the target: the survey cannot tell "
              "whether the target was reached. Counts (officials trained) and budget figures have no sampling error and "
              "are compared with the target directly.",
        "ar": "الحالة. تأتي تقديرات المسح من عينة، ولذلك لها فترة ثقة 95%. يُعدّ الهدف متحققاً فقط إذا وقعت فترة الثقة كلها في "
              "الجانب الجيد من الهدف، وغير متحقق فقط إذا وقعت كلها في الجانب السيئ، ولا يمكن الحسم إذا عبرت فترة الثقة الهدف: "
              "فالمسح لا يستطيع أن يحدد هل بلغ المؤشر هدفه. أما الأعداد (المسؤولون المتدربون) وأرقام الموازنة فليس لها خطأ "
              "معاينة وتُقارن بالهدف مباشرة."},
    "meaning_distance": {
        "en": "Percent of distance: how far the actual has moved from the baseline towards the target (100% = target "
              "reached; above 100% = beyond it; negative = moved away).",
        "ar": "النسبة من المسافة: مقدار تحرك القيمة الفعلية من خط الأساس نحو الهدف (100% = بلوغ الهدف؛ أكثر من 100% = تجاوزه؛ "
              "القيمة السالبة = الابتعاد عنه)."},
    "meaning_suppression": {
        "en": "Suppression. An estimate from too few respondents (fewer than {min_n} answers, or an effective sample "
              "below {min_n_eff}) is not published: it appears as suppressed, with no number and no status, here and "
              "everywhere else.",
        "ar": "الحجب. لا يُنشر التقدير المبني على عدد قليل جداً من المستجيبين (أقل من {min_n} إجابة، أو حجم عينة فعّال أقل من "
              "{min_n_eff}): يظهر محجوباً بلا رقم ولا حالة، هنا وفي كل مكان آخر."},
    "meaning_provisional": {
        "en": "Provisional waves. A survey wave counts once the M&E lead has approved it. Waves not yet approved are "
              "left out of this brief by default, so an indicator may show an earlier period than the latest fieldwork.",
        "ar": "الجولات غير المعتمدة. تُحتسب جولة المسح بعد أن يعتمدها مسؤول المتابعة والتقييم. تُستبعد الجولات غير المعتمدة من "
              "هذا الموجز افتراضياً، لذلك قد يظهر المؤشر لفترة أسبق من آخر عمل ميداني."},
    "meaning_training": {
        "en": "Training. An official completes a course with a mean attendance of at least the threshold set for the "
              "source; each person counts once per track. Knowledge gain is the mean of each participant's post-test "
              "minus pre-test score, with a 95% t interval; participants without both tests are left out of it.",
        "ar": "التدريب. يُعدّ المسؤول مكملاً للدورة إذا بلغ متوسط حضوره الحد المحدد للمصدر؛ ويُحتسب كل شخص مرة واحدة في كل مسار. "
              "الزيادة في المعرفة هي متوسط الفرق بين درجة الاختبار البعدي والقبلي لكل مشارك، مع فترة ثقة t بنسبة 95%؛ "
              "ويُستبعد منها من لم يُجرِ الاختبارين."},
    "meaning_versions": {
        "en": "Versions. Every row records the results framework version and the indicator's formula version it was "
              "computed with (shown on the cover and in the scorecard).",
        "ar": "الإصدارات. يسجل كل صف إصدار إطار النتائج وإصدار صيغة المؤشر اللذين حُسب بهما (يظهران على الغلاف وفي بطاقة الأداء)."},
    "formula_version": {"en": "formula v", "ar": "صيغة الإصدار "},
    "page": {"en": "Page", "ar": "صفحة"},
    "reference": {"en": "The indicators", "ar": "المؤشرات"},
    "responsible": {"en": "Responsible unit", "ar": "الجهة المسؤولة"},
    "higher_is_better": {"en": "higher is better", "ar": "الأعلى أفضل"},
    "lower_is_better": {"en": "lower is better", "ar": "الأدنى أفضل"},
}


def strings(lang: str) -> dict[str, str]:
    """All phrases in ``lang`` (``en`` | ``ar``).

    Raises:
        ValueError: another language.
    """
    if lang not in ("en", "ar"):
        raise ValueError(f"language {lang!r}: the brief is written in 'en' or 'ar'")
    return {k: v[lang] for k, v in STRINGS.items()}
