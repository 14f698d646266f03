//! The one way a container the user typed is found: its id, its name, or a prefix of its
//! id that no other container has.

use super::error::{Result, StateError};
use super::id::ContainerId;

/// A container `query` may name: its id and, if it has one, its name.
pub trait Candidate {
    /// Its id.
    fn id(&self) -> &ContainerId;
    /// Its `--name`, if it was given one.
    fn name(&self) -> Option<&str> {
        None
    }
}

impl Candidate for ContainerId {
    fn id(&self) -> &ContainerId {
        self
    }
}

/// The candidate `query` names: an exact id, then a name, then the one id it is a prefix
/// of. A prefix of several ids is refused with all of them, so the user can give more.
pub fn resolve<C: Candidate>(candidates: Vec<C>, query: &str) -> Result<C> {
    if query.is_empty() {
        return Err(StateError::NoSuchContainer(query.to_owned()));
    }
    let exact = |c: &C| c.id().as_str() == query;
    let named = |c: &C| c.name() == Some(query);
    let position = candidates
        .iter()
        .position(exact)
        .or_else(|| candidates.iter().position(named));
    let mut candidates = candidates;
    if let Some(found) = position {
        return Ok(candidates.swap_remove(found));
    }
    candidates.retain(|c| c.id().as_str().starts_with(query));
    // The same container seen twice (by its record and by its layers) is one container:
    // the first sighting stands for it.
    candidates.sort_by(|a, b| a.id().cmp(b.id()));
    candidates.dedup_by(|later, first| later.id() == first.id());
    match candidates.len() {
        0 => Err(StateError::NoSuchContainer(query.to_owned())),
        1 => Ok(candidates.remove(0)),
        _ => {
            let ids: Vec<&str> = candidates.iter().map(|c| c.id().as_str()).collect();
            Err(StateError::AmbiguousContainer {
                query: query.to_owned(),
                ids: ids.join(", "),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone)]
    struct Named(ContainerId, Option<&'static str>);

    impl Candidate for Named {
        fn id(&self) -> &ContainerId {
            &self.0
        }
        fn name(&self) -> Option<&str> {
            self.1
        }
    }

    fn id(text: &str) -> ContainerId {
        ContainerId::parse(text).unwrap()
    }

    fn found(candidates: Vec<Named>, query: &str) -> Result<String> {
        resolve(candidates, query).map(|c| c.0.to_string())
    }

    fn three() -> Vec<Named> {
        vec![
            Named(id("abc000000001"), Some("web")),
            Named(id("abc000000002"), None),
            // A name that is also a prefix of another's id: the name wins.
            Named(id("ffff00001111"), Some("abc")),
        ]
    }

    #[test]
    fn an_exact_id_then_a_name_then_a_unique_prefix() {
        assert_eq!(found(three(), "abc000000002").unwrap(), "abc000000002");
        assert_eq!(found(three(), "web").unwrap(), "abc000000001");
        assert_eq!(found(three(), "abc").unwrap(), "ffff00001111");
        assert_eq!(found(three(), "ff").unwrap(), "ffff00001111");
    }

    #[test]
    fn nothing_matches_an_empty_or_unknown_query() {
        for query in ["", "9", "abc0000000010"] {
            assert!(
                matches!(found(three(), query), Err(StateError::NoSuchContainer(q)) if q == query),
                "{query:?}"
            );
        }
    }

    #[test]
    fn an_ambiguous_prefix_names_every_candidate_once() {
        let mut candidates = three();
        // The same container seen twice (its record and its layers) is one candidate.
        candidates.push(Named(id("abc000000002"), None));
        candidates.push(Named(id("ffff00001111"), None));
        assert_eq!(found(candidates.clone(), "ffff").unwrap(), "ffff00001111");
        assert_eq!(
            found(candidates, "abc0").unwrap_err().to_string(),
            "\"abc0\" matches more than one container (abc000000001, abc000000002): give more of the id, or the name"
        );
    }
}
