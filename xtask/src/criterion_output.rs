//! Reading criterion's console output: `name  time: [low estimate high]`.

/// One benchmark's point estimate, in nanoseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// The benchmark id, e.g. `vessel/default-namespaces`.
    pub name: String,
    /// The middle value criterion prints.
    pub nanos: f64,
}

/// Every estimate in criterion's output. A long name is printed on its own line with
/// `time:` on the next, a short one on the same line.
pub fn parse(output: &str) -> Vec<Estimate> {
    let mut estimates = Vec::new();
    let mut current: Option<String> = None;
    for line in output.lines() {
        let (head, rest) = match line.split_once("time:") {
            Some((head, rest)) => (head, Some(rest)),
            None => (line, None),
        };
        if !line.starts_with(char::is_whitespace) && !head.trim().is_empty() {
            current = Some(head.trim().to_owned());
        }
        let (Some(rest), Some(name)) = (rest, current.as_ref()) else {
            continue;
        };
        if let Some(nanos) = middle_value(rest) {
            estimates.push(Estimate {
                name: name.clone(),
                nanos,
            });
        }
    }
    estimates
}

/// The middle of `[1.2 ms 1.3 ms 1.4 ms]`, in nanoseconds.
fn middle_value(text: &str) -> Option<f64> {
    let inner = text.split_once('[')?.1.split_once(']')?.0;
    let parts: Vec<&str> = inner.split_whitespace().collect();
    let [_, _, value, unit, _, _] = parts.as_slice() else {
        return None;
    };
    let scale = match *unit {
        "ps" => 1e-3,
        "ns" => 1.0,
        "µs" | "us" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        _ => return None,
    };
    Some(value.parse::<f64>().ok()? * scale)
}

/// Formats nanoseconds with a readable unit.
pub fn human(nanos: f64) -> String {
    if nanos >= 1e6 {
        format!("{:.2} ms", nanos / 1e6)
    } else if nanos >= 1e3 {
        format!("{:.1} µs", nanos / 1e3)
    } else {
        format!("{nanos:.0} ns")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_names_are_both_read() {
        let out = "floor/fork-exec         time:   [301.22 µs 305.11 µs 309.68 µs]\n\
                   vessel/all-supported-namespaces-cold\n                        time:   [1.2011 ms 1.2500 ms 1.3000 ms]\n\
                   change: [-1.0% +0.5% +2.0%] (p = 0.50 > 0.05)\n";
        let estimates = parse(out);
        assert_eq!(estimates.len(), 2);
        assert_eq!(estimates[0].name, "floor/fork-exec");
        assert!((estimates[0].nanos - 305_110.0).abs() < 1e-6);
        assert_eq!(estimates[1].name, "vessel/all-supported-namespaces-cold");
        assert!((estimates[1].nanos - 1_250_000.0).abs() < 1e-3);
    }
}
