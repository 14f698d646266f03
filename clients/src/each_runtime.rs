//! The shape every client test file shares: each scenario runs once with runc (the
//! control, which must pass too) and once with vessel, as two named tests, so a failure
//! that only vessel's test shows is vessel's bug.

use std::path::{Path, PathBuf};

use crate::Skip;

/// Builds the client for `runtime` with `new` and runs `scenario` with it; a client or
/// runtime that is missing reports the skip under the test's name.
pub fn with_client<C>(
    test: &str,
    runtime: Result<PathBuf, Skip>,
    new: impl FnOnce(&Path) -> Result<C, Skip>,
    scenario: impl FnOnce(&C),
) {
    match runtime.and_then(|r| new(&r)) {
        Ok(client) => scenario(&client),
        Err(skip) => skip.report(test),
    }
}

/// `each_runtime!(Client::new => scenario, …)`: a module per scenario holding the tests
/// `runc` and `vessel`, each building the client with that runtime and running the
/// scenario (a function of the test file, or one imported from [`crate::scenarios`]).
#[macro_export]
macro_rules! each_runtime {
    ($new:expr => $($scenario:ident),+ $(,)?) => {
        $(
            mod $scenario {
                use super::*;

                #[test]
                fn runc() {
                    $crate::each_runtime::with_client(
                        concat!(stringify!($scenario), "::runc"),
                        $crate::runtime::runc(),
                        $new,
                        $scenario,
                    );
                }

                #[test]
                fn vessel() {
                    $crate::each_runtime::with_client(
                        concat!(stringify!($scenario), "::vessel"),
                        $crate::runtime::vessel(),
                        $new,
                        $scenario,
                    );
                }
            }
        )+
    };
}
