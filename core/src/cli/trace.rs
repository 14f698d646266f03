//! `--trace`: where the start-up time went, as `vessel run` and `vessel run --bundle`
//! print it.

/// The `--trace` table: each stage's duration and its share of the whole start.
pub(super) fn table(trace: &crate::StartTrace) -> String {
    let total = trace.total();
    let mut table = format!(
        "vessel: start-up took {:.3} ms\n",
        total.as_secs_f64() * 1e3
    );
    for stage in &trace.stages {
        let share = stage.duration.as_secs_f64() / total.as_secs_f64().max(f64::MIN_POSITIVE);
        table.push_str(&format!(
            "{:>10.1} µs {:>5.1}%  {}\n",
            stage.duration.as_secs_f64() * 1e6,
            share * 100.0,
            stage.name
        ));
    }
    table
}
