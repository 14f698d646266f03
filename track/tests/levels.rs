//! The solution to level N is level N+1's starting point: every line of code of
//! `solutions/level-N.rs` (past its doc comment, `use` lines aside, which grow) appears,
//! in order, in `src/bin/level-(N+1).rs`. A learner who takes a solution and goes on
//! loses nothing of it.

use std::fs;
use std::path::Path;

fn code_lines(text: &str) -> Vec<&str> {
    text.lines()
        .skip_while(|l| l.starts_with("//!") || l.is_empty())
        .filter(|l| {
            let t = l.trim();
            !(t.is_empty() || t.starts_with("use ") || t.starts_with("//") || t.starts_with("#!["))
        })
        .collect()
}

#[test]
fn each_level_starts_from_the_previous_solution() {
    let track = Path::new(env!("CARGO_MANIFEST_DIR"));
    for level in 1..6 {
        let solution = fs::read_to_string(track.join(format!("solutions/level-{level}.rs")))
            .expect("read the solution");
        let next = fs::read_to_string(track.join(format!("src/bin/level-{}.rs", level + 1)))
            .expect("read the next level");
        let mut rest = code_lines(&next).into_iter();
        for line in code_lines(&solution) {
            assert!(
                rest.any(|l| l == line),
                "level {}'s starting file lacks (or reorders) level {level}'s solution line {line:?}",
                level + 1
            );
        }
    }
}
