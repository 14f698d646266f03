//! Time namespaces: a container with its own `CLOCK_MONOTONIC` and `CLOCK_BOOTTIME`.
//!
//! The wall clock (`CLOCK_REALTIME`) is never namespaced; only the two clocks that count
//! from boot are, by a fixed offset (time_namespaces(7)). The offsets are written to
//! `/proc/PID/timens_offsets`, which describes the time namespace PID's *children* will
//! get, and they freeze as soon as any process enters the namespace. `clone3` with
//! `CLONE_NEWTIME` would put the child in at once, with zero offsets, so vessel does it
//! in three moves instead:
//!
//! 1. the child calls `unshare(CLONE_NEWTIME)`: a new namespace for its children only;
//! 2. it closes a "ready" pipe and waits; the parent writes the offsets, then one byte;
//! 3. just before `execve`, the child `setns`es into `/proc/self/ns/time_for_children`.
//!
//! The parent's end of that handshake is [`crate::process::time_handshake`].

/// Offsets of the namespaced clocks, in whole seconds (negative is allowed, as long as
/// the clock stays positive).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeOffsets {
    /// Added to `CLOCK_MONOTONIC` (and its `_RAW`, `_COARSE` forms).
    pub monotonic: i64,
    /// Added to `CLOCK_BOOTTIME`.
    pub boottime: i64,
}

impl TimeOffsets {
    /// Parses `monotonic=1d,boottime=-30s`: clock names with a number of seconds, or a
    /// number with one of the units `s`, `m`, `h`, `d`.
    pub fn parse(text: &str) -> std::result::Result<TimeOffsets, String> {
        let mut offsets = TimeOffsets::default();
        for part in text.split(',').filter(|p| !p.is_empty()) {
            let Some((clock, value)) = part.split_once('=') else {
                return Err(format!(
                    "{part:?}: expected CLOCK=OFFSET (e.g. monotonic=1d,boottime=3600)"
                ));
            };
            let seconds = parse_seconds(value).ok_or_else(|| {
                format!("{value:?}: not a number of seconds (use e.g. 90, 15m, 2h or -1d)")
            })?;
            match clock {
                "monotonic" => offsets.monotonic = seconds,
                "boottime" => offsets.boottime = seconds,
                other => {
                    return Err(format!(
                        "{other:?}: no such namespaced clock (use monotonic or boottime)"
                    ));
                }
            }
        }
        Ok(offsets)
    }

    /// The text `/proc/PID/timens_offsets` takes: `<clock> <seconds> <nanoseconds>`.
    pub fn proc_text(&self) -> String {
        format!(
            "monotonic {} 0\nboottime {} 0\n",
            self.monotonic, self.boottime
        )
    }
}

fn parse_seconds(value: &str) -> Option<i64> {
    let (number, unit) = match value.char_indices().last()? {
        (i, 's') => (&value[..i], 1),
        (i, 'm') => (&value[..i], 60),
        (i, 'h') => (&value[..i], 3600),
        (i, 'd') => (&value[..i], 86_400),
        _ => (value, 1),
    };
    number.parse::<i64>().ok()?.checked_mul(unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_parse_with_units_and_sign() {
        assert_eq!(
            TimeOffsets::parse("monotonic=1d,boottime=-90"),
            Ok(TimeOffsets {
                monotonic: 86_400,
                boottime: -90
            })
        );
        assert_eq!(TimeOffsets::parse("boottime=2h").unwrap().boottime, 7200);
        assert_eq!(TimeOffsets::parse("monotonic=15m").unwrap().monotonic, 900);
    }

    #[test]
    fn bad_offsets_say_what_is_wrong() {
        assert!(
            TimeOffsets::parse("realtime=5")
                .unwrap_err()
                .contains("use monotonic or boottime")
        );
        assert!(
            TimeOffsets::parse("monotonic=5x")
                .unwrap_err()
                .contains("\"5x\"")
        );
        assert!(
            TimeOffsets::parse("monotonic")
                .unwrap_err()
                .contains("CLOCK=OFFSET")
        );
    }

    #[test]
    fn proc_text_names_both_clocks() {
        let text = TimeOffsets {
            monotonic: 5,
            boottime: -3,
        }
        .proc_text();
        assert_eq!(text, "monotonic 5 0\nboottime -3 0\n");
    }
}
