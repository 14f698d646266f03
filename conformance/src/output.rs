//! What a run prints: one line per check, and the runtime × check table.

use crate::runner::Result;

/// `ok`/`not ok`/`skip`, the runtime when there are several, the check, the reason.
pub fn line(r: &Result, several: bool) {
    let runtime = if several {
        format!("[{}] ", r.runtime)
    } else {
        String::new()
    };
    let reason = if r.reason.is_empty() {
        String::new()
    } else {
        format!(" # {}", r.reason)
    };
    println!("{:<6} {runtime}{}{reason}", r.verdict, r.check);
}

/// The runtime × check table.
pub fn table(runtimes: &[String], all: &[Result]) {
    println!();
    print!("{:<40}", "check");
    for runtime in runtimes {
        print!(" {runtime:<7}");
    }
    println!();
    let mut ids: Vec<&str> = Vec::new();
    for r in all {
        if !ids.contains(&r.check.as_str()) {
            ids.push(&r.check);
        }
    }
    for id in ids {
        print!("{id:<40}");
        for runtime in runtimes {
            let cell = all
                .iter()
                .find(|r| r.check == id && &r.runtime == runtime)
                .map_or("-", |r| match r.verdict {
                    "ok" => "ok",
                    "not ok" => "FAIL",
                    _ => "skip",
                });
            print!(" {cell:<7}");
        }
        println!();
    }
    println!();
}
