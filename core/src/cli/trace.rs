//! `--trace`: where the start-up time went, as `vessel run` and `vessel run --bundle`
//! print it.

/// The `--trace` table: each stage's start, duration and share of the whole start, in
/// the order they began. The parent's stages and the child's steps overlap (the child
/// makes its root while the parent makes the cgroup), so the shares add up to more
/// than 100%.
pub(super) fn table(trace: &crate::StartTrace) -> String {
    let total = trace.total();
    let mut table = format!(
        "vessel: start-up took {:.3} ms (parent and child work at the same time)\n\
         {:>9} {:>10} {:>6}  {:6}  stage\n",
        total.as_secs_f64() * 1e3,
        "at µs",
        "took µs",
        "share",
        "side"
    );
    for stage in &trace.stages {
        let share = stage.duration.as_secs_f64() / total.as_secs_f64().max(f64::MIN_POSITIVE);
        let side = match stage.side {
            crate::StageSide::Parent => "parent",
            crate::StageSide::Child => "child",
        };
        table.push_str(&format!(
            "{:>9.1} {:>10.1} {:>5.1}%  {side:6}  {}\n",
            stage.began.as_secs_f64() * 1e6,
            stage.duration.as_secs_f64() * 1e6,
            share * 100.0,
            stage.name
        ));
    }
    table
}
