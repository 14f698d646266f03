//! vessel's own nftables table, `ip vessel`, driven through nft's JSON interface.
//!
//! Every rule vessel adds carries a comment naming its owner — a container's id for
//! its port mappings, `net:NAME` for a network's NAT and isolation rules — so that
//! removing a container or a network deletes exactly its rules (found by comment, deleted
//! by handle) and nothing of the host's own firewall is touched. All changes are made
//! under the network state's lock (see [`super::store::Locked`]).
//!
//! ```text
//! table ip vessel
//!   chain guard      filter prerouting -300: iifname BR ip daddr 127.0.0.0/8 drop
//!   chain prerouting nat    prerouting -100: fib daddr type local jump ports
//!   chain output     nat    output     -100: fib daddr type local jump ports
//!   chain ports      (one DNAT rule per -p, comment = container id)
//!   chain postrouting nat   postrouting 100: masquerade (egress, loopback, hairpin)
//!   chain forward    filter forward      0: iifname BR oifname "vessel*" oifname != BR drop
//! ```

use std::borrow::Cow;
use std::collections::HashSet;
use std::net::Ipv4Addr;

use nftables::batch::Batch;
use nftables::expr::{
    CT, Expression, Fib, FibFlag, FibResult, Meta, MetaKey, NamedExpression, Payload, PayloadField,
    Prefix,
};
use nftables::schema::{Chain, NfCmd, NfListObject, NfObject, Nftables, Rule, Table};
use nftables::stmt::{JumpTarget, Match, NAT, Operator, Statement};
use nftables::types::{NfChainPolicy, NfChainType, NfFamily, NfHook};

use super::error::{NetworkError, Result};
use super::ports::PortMapping;
use super::store::Network;

/// The table's name.
pub const TABLE: &str = "vessel";
const PORTS: &str = "ports";

/// The `nft` program: from `$PATH`, else Debian's place for it.
fn nft_program() -> String {
    std::env::var_os("PATH")
        .and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join("nft"))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| "/usr/sbin/nft".into())
        .to_string_lossy()
        .into_owned()
}

fn apply(step: &str, batch: Batch<'_>) -> Result<()> {
    let ruleset = batch.to_nftables();
    let program = nft_program();
    nftables::helper::apply_ruleset_with_args(
        &ruleset,
        Some(program.as_str()),
        nftables::helper::DEFAULT_ARGS,
    )
    .map_err(|source| NetworkError::Nftables {
        step: step.to_owned(),
        source,
    })
}

/// Every rule of vessel's table, with handles; none if the table does not exist.
pub fn rules() -> Result<Vec<Rule<'static>>> {
    let program = nft_program();
    let listed = nftables::helper::get_current_ruleset_with_args(
        Some(program.as_str()),
        ["list", "table", "ip", TABLE],
    );
    let ruleset: Nftables<'static> = match listed {
        Ok(ruleset) => ruleset,
        // No table yet (nft exits 1, "No such file or directory"): no rules.
        Err(nftables::helper::NftablesError::NftFailed { stderr, .. })
            if stderr.contains("No such file") =>
        {
            return Ok(Vec::new());
        }
        Err(source) => {
            return Err(NetworkError::Nftables {
                step: format!("list table ip {TABLE}"),
                source,
            });
        }
    };
    Ok(ruleset
        .objects
        .iter()
        .filter_map(|object| match object {
            NfObject::ListObject(NfListObject::Rule(rule)) => Some(rule.clone()),
            _ => None,
        })
        .collect())
}

fn chain(name: &'static str, kind: Option<(NfChainType, NfHook, i32)>) -> NfListObject<'static> {
    NfListObject::Chain(Chain {
        family: NfFamily::IP,
        table: TABLE.into(),
        name: name.into(),
        _type: kind.map(|k| k.0),
        hook: kind.map(|k| k.1),
        prio: kind.map(|k| k.2),
        policy: kind.map(|_| NfChainPolicy::Accept),
        ..Chain::default()
    })
}

fn rule(
    chain: &'static str,
    expr: Vec<Statement<'static>>,
    comment: String,
) -> NfListObject<'static> {
    NfListObject::Rule(Rule {
        family: NfFamily::IP,
        table: TABLE.into(),
        chain: chain.into(),
        expr: Cow::Owned(expr),
        comment: Some(comment.into()),
        ..Rule::default()
    })
}

fn matches(
    left: Expression<'static>,
    op: Operator,
    right: Expression<'static>,
) -> Statement<'static> {
    Statement::Match(Match { left, right, op })
}

fn meta(key: MetaKey) -> Expression<'static> {
    Expression::Named(NamedExpression::Meta(Meta { key }))
}

fn field(protocol: &'static str, name: &'static str) -> Expression<'static> {
    Expression::Named(NamedExpression::Payload(Payload::PayloadField(
        PayloadField {
            protocol: protocol.into(),
            field: name.into(),
        },
    )))
}

fn prefix(address: Ipv4Addr, len: u8) -> Expression<'static> {
    Expression::Named(NamedExpression::Prefix(Prefix {
        addr: Box::new(Expression::String(address.to_string().into())),
        len: len.into(),
    }))
}

fn string(text: impl Into<String>) -> Expression<'static> {
    Expression::String(Cow::Owned(text.into()))
}

// ANCHOR: local_jump
/// `fib daddr type local jump ports`: a packet for any of the host's own addresses
/// (127.0.0.1 included) is looked up among the port mappings.
fn to_ports(chain: &'static str) -> NfListObject<'static> {
    let fib = Expression::Named(NamedExpression::Fib(Fib {
        result: FibResult::Type,
        flags: HashSet::from([FibFlag::Daddr]),
    }));
    rule(
        chain,
        vec![
            matches(fib, Operator::EQ, string("local")),
            Statement::Jump(JumpTarget {
                target: PORTS.into(),
            }),
        ],
        "vessel".to_owned(),
    )
}
// ANCHOR_END: local_jump

/// Creates the table and its chains unless they exist (`add` is idempotent for tables
/// and chains; the two jump rules are added only with a new `ports` chain).
pub fn ensure_table() -> Result<()> {
    let existing = rules()?;
    if existing
        .iter()
        .any(|r| r.comment.as_deref() == Some("vessel"))
    {
        return Ok(());
    }
    let mut batch = Batch::new();
    batch.add(NfListObject::Table(Table {
        family: NfFamily::IP,
        name: TABLE.into(),
        handle: None,
    }));
    batch.add(chain(
        "guard",
        Some((NfChainType::Filter, NfHook::Prerouting, -300)),
    ));
    batch.add(chain(
        "prerouting",
        Some((NfChainType::NAT, NfHook::Prerouting, -100)),
    ));
    batch.add(chain(
        "output",
        Some((NfChainType::NAT, NfHook::Output, -100)),
    ));
    batch.add(chain(
        "postrouting",
        Some((NfChainType::NAT, NfHook::Postrouting, 100)),
    ));
    batch.add(chain(
        "forward",
        Some((NfChainType::Filter, NfHook::Forward, 0)),
    ));
    batch.add(chain(PORTS, None));
    batch.add(to_ports("prerouting"));
    batch.add(to_ports("output"));
    apply(&format!("create table ip {TABLE}"), batch)
}

/// The comment on a network's rules.
pub fn network_comment(name: &str) -> String {
    format!("net:{name}")
}

// ANCHOR: network_rules
/// A network's rules: its containers' traffic to elsewhere leaves with the host's
/// address (MASQUERADE); connections from the host's loopback to a mapped port leave
/// the bridge from the bridge's address (their 127.0.0.1 source would mean nothing to
/// the container); a container reaching a peer through a host port (hairpin) does too;
/// packets from the bridge for 127.0.0.0/8 are dropped (`route_localnet` would
/// otherwise let containers reach the host's loopback services); and nothing is
/// forwarded from this bridge to another vessel bridge: networks are isolated.
pub fn add_network(network: &Network) -> Result<()> {
    let bridge = || string(network.bridge.clone());
    let comment = network_comment(&network.name);
    let subnet = prefix(network.subnet.network(), network.subnet.prefix_len());
    let loopback = || prefix(Ipv4Addr::new(127, 0, 0, 0), 8);
    let masquerade = || Statement::Masquerade(None);
    let mut batch = Batch::new();
    batch.add(rule(
        "postrouting",
        vec![
            matches(field("ip", "saddr"), Operator::EQ, subnet),
            matches(meta(MetaKey::Oifname), Operator::NEQ, bridge()),
            masquerade(),
        ],
        comment.clone(),
    ));
    batch.add(rule(
        "postrouting",
        vec![
            matches(meta(MetaKey::Oifname), Operator::EQ, bridge()),
            matches(field("ip", "saddr"), Operator::EQ, loopback()),
            masquerade(),
        ],
        comment.clone(),
    ));
    let dnat_status = Expression::Named(NamedExpression::CT(CT {
        key: "status".into(),
        family: None,
        dir: None,
    }));
    batch.add(rule(
        "postrouting",
        vec![
            matches(meta(MetaKey::Iifname), Operator::EQ, bridge()),
            matches(meta(MetaKey::Oifname), Operator::EQ, bridge()),
            matches(dnat_status, Operator::IN, string("dnat")),
            masquerade(),
        ],
        comment.clone(),
    ));
    batch.add(rule(
        "guard",
        vec![
            matches(meta(MetaKey::Iifname), Operator::EQ, bridge()),
            matches(field("ip", "daddr"), Operator::EQ, loopback()),
            Statement::Drop(None),
        ],
        comment.clone(),
    ));
    batch.add(rule(
        "forward",
        vec![
            matches(meta(MetaKey::Iifname), Operator::EQ, bridge()),
            matches(meta(MetaKey::Oifname), Operator::EQ, string("vessel*")),
            matches(meta(MetaKey::Oifname), Operator::NEQ, bridge()),
            Statement::Drop(None),
        ],
        comment,
    ));
    apply(&format!("add the rules of network {}", network.name), batch)
}
// ANCHOR_END: network_rules

// ANCHOR: dnat_rule
/// One DNAT rule per `-p`: a packet for the host's port (on any local address, or on
/// the one given) has its destination rewritten to the container's address and port.
/// The rule is reached from both `prerouting` (other hosts and namespaces) and `output`
/// (the host's own processes, 127.0.0.1 included): a rule in `prerouting` alone never
/// sees a connection made on the host itself.
pub fn add_ports(container: &str, ip: Ipv4Addr, ports: &[PortMapping]) -> Result<()> {
    if ports.is_empty() {
        return Ok(());
    }
    let mut batch = Batch::new();
    for port in ports {
        let protocol = port.protocol.name();
        let mut expr = Vec::new();
        if let Some(host_ip) = port.host_ip {
            expr.push(matches(
                field("ip", "daddr"),
                Operator::EQ,
                string(host_ip.to_string()),
            ));
        }
        expr.push(matches(
            field(protocol, "dport"),
            Operator::EQ,
            Expression::Number(port.host_port.into()),
        ));
        expr.push(Statement::DNAT(Some(NAT {
            addr: Some(string(ip.to_string())),
            family: None,
            port: Some(Expression::Number(port.container_port.into())),
            flags: None,
        })));
        batch.add(rule(PORTS, expr, container.to_owned()));
    }
    apply(
        &format!("add the port mappings of container {container}"),
        batch,
    )
}
// ANCHOR_END: dnat_rule

/// Deletes every rule whose comment is one of `owners`; returns how many went.
pub fn delete_owned(owners: &[String]) -> Result<usize> {
    if owners.is_empty() {
        return Ok(0);
    }
    let doomed: Vec<Rule<'static>> = rules()?
        .into_iter()
        .filter(|r| {
            r.comment
                .as_ref()
                .is_some_and(|c| owners.iter().any(|o| o == c))
        })
        .collect();
    if doomed.is_empty() {
        return Ok(0);
    }
    let mut batch = Batch::new();
    let count = doomed.len();
    for rule in doomed {
        batch.add_cmd(NfCmd::Delete(NfListObject::Rule(Rule {
            expr: Cow::Owned(Vec::new()),
            comment: None,
            ..rule
        })));
    }
    apply(&format!("delete the rules of {owners:?}"), batch)?;
    Ok(count)
}
