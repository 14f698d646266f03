//! From a [`Profile`] and the container's capabilities to one classic-BPF program the
//! kernel runs on every system call (`seccomp(SECCOMP_SET_MODE_FILTER)`).
//!
//! The argument checks are `seccompiler`'s (rust-vmm's compiler, pure Rust). It compiles
//! one filter per *action*: "these calls, with these argument conditions → action X,
//! any other → action Y". A docker profile mixes actions (`ALLOW` for most,
//! `ERRNO(ENOSYS)` for `clone3`, a default `ERRNO(EPERM)`), so vessel compiles one
//! filter per action, in the order the profile first uses them, with a marker as the
//! "any other" action, and chains them: each marker return becomes a jump to the next
//! filter, and the last one falls through to the default action. The first rule that
//! matches wins. Calls matched by number alone (most of the allow-list) skip
//! seccompiler's five-instruction pattern: a binary search over runs of consecutive
//! numbers, so a call walks fewer than 30 instructions of docker's profile, not hundreds.
//!
//! In front of everything, vessel's own three guards:
//! - a call made under another architecture's calling convention (`int 0x80` on
//!   x86_64 is i386, with other numbers) kills the process: the numbers below would
//!   mean something else;
//! - a call with the x32 bit (`nr | 0x40000000`) is refused with `EPERM`: the kernel
//!   would run `nr` for it, so a deny rule on `nr` alone could be bypassed.

use std::collections::BTreeMap;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch, sock_filter,
};

use super::SeccompError;
use super::profile::{ArgCondition, Condition, Profile, SyscallRule};
use crate::security::capabilities::{self, CapSet};

/// What is known about the container when its profile is turned into BPF: which
/// capabilities it can ever hold (docker matches `includes.caps` against the bounding
/// set) and the running kernel's version.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// The container's bounding set.
    pub bounding: CapSet,
    /// `(major, minor)` of the running kernel.
    pub kernel: (u32, u32),
}

/// docker's name for the architecture vessel runs on.
const NATIVE_ARCH: &str = "amd64";
/// `AUDIT_ARCH_X86_64` from `<linux/audit.h>`.
const AUDIT_ARCH_X86_64: u32 = 62 | 0x8000_0000 | 0x4000_0000;
/// The bit x32 system calls carry in their number.
const X32_SYSCALL_BIT: u32 = 0x4000_0000;
/// The largest errno the kernel passes back from a filter.
const MAX_ERRNO: u32 = 4095;
/// The "no rule of this filter matched" marker, patched into a jump. An errno no
/// profile can ask for (see [`MAX_ERRNO`]).
const NEXT_FILTER: SeccompAction = SeccompAction::Errno(0xffff);

// ANCHOR: compile
/// Compiles `profile` for a container described by `target`.
pub fn compile(profile: &Profile, target: Target) -> Result<BpfProgram, SeccompError> {
    let default = action(&profile.default_action, profile.default_errno_ret)?;
    let mut groups: Vec<(SeccompAction, BTreeMap<i64, Vec<SeccompRule>>)> = Vec::new();
    for rule in &profile.syscalls {
        let rule_action = action(&rule.action, rule.errno_ret)?;
        let conditions = conditions(rule)?;
        if !applies(rule, target)? {
            continue;
        }
        let at = match groups.iter().position(|(a, _)| *a == rule_action) {
            Some(at) => at,
            None => {
                groups.push((rule_action.clone(), BTreeMap::new()));
                groups.len() - 1
            }
        };
        for name in rule.all_names() {
            // A name this architecture does not have (`chown32`, `_llseek`…) is
            // skipped, as libseccomp does: there is no call to allow or refuse.
            let Some(nr) = super::syscall_number(name) else {
                continue;
            };
            add_rules(&mut groups[at].1, nr, &conditions);
        }
    }
    let mut program = guards();
    for (group_action, mut rules) in groups {
        let by_number: Vec<i64> = rules
            .iter()
            .filter(|(_, chain)| chain.is_empty())
            .map(|(nr, _)| *nr)
            .collect();
        if !by_number.is_empty() {
            program.extend(match_by_number(&by_number, u32_of(group_action.clone())));
        }
        rules.retain(|_, chain| !chain.is_empty());
        if rules.is_empty() {
            continue;
        }
        let filter = SeccompFilter::new(rules, NEXT_FILTER, group_action, TargetArch::x86_64)
            .map_err(|e| SeccompError::Compile(e.to_string()))?;
        let mut compiled: BpfProgram = filter
            .try_into()
            .map_err(|e: seccompiler::BackendError| SeccompError::Compile(e.to_string()))?;
        chain_to_next(&mut compiled);
        program.extend(compiled);
    }
    program.push(ret(u32_of(default)));
    if program.len() > usize::from(u16::MAX).min(4096) {
        return Err(SeccompError::Compile(format!(
            "the filter has {} BPF instructions; the kernel takes at most 4096",
            program.len()
        )));
    }
    Ok(program)
}
// ANCHOR_END: compile

/// The guards that run before any rule: another architecture's calls kill the
/// process, x32 calls fail with `EPERM`.
fn guards() -> BpfProgram {
    // BPF_LD|BPF_W|BPF_ABS, BPF_JMP|BPF_JEQ|BPF_K, BPF_JMP|BPF_JGE|BPF_K.
    const LD_W_ABS: u16 = 0x20;
    const JEQ_K: u16 = 0x15;
    const JGE_K: u16 = 0x35;
    vec![
        // A = seccomp_data.arch
        stmt(LD_W_ABS, 4),
        jump(JEQ_K, AUDIT_ARCH_X86_64, 1, 0),
        ret(libc::SECCOMP_RET_KILL_PROCESS),
        // A = seccomp_data.nr
        stmt(LD_W_ABS, 0),
        jump(JGE_K, X32_SYSCALL_BIT, 0, 1),
        ret(libc::SECCOMP_RET_ERRNO | libc::EPERM as u32),
    ]
}

/// `A = nr`, then a binary search over the runs of consecutive numbers in `numbers`: a
/// call in the list returns `action`, any other falls through to the instruction after
/// the program.
///
/// A linear list (`if A == n1 return; if A == n2 return; …`) walks up to 700
/// instructions for docker's ~300 calls allowed by number, and the kernel walks it far
/// more often than the container's calls suggest: when a filter is installed, it runs
/// the program once per system call number to find the calls it may allow without
/// running it again (`seccomp_cache_prepare`), and it converts and JIT-compiles every
/// instruction. docker's list is about 30 runs of consecutive numbers, so a search over
/// runs is about 150 instructions long and walks fewer than 20.
fn match_by_number(numbers: &[i64], action: u32) -> BpfProgram {
    const LD_W_ABS: u16 = 0x20;
    let mut sorted: Vec<u32> = numbers.iter().map(|nr| *nr as u32).collect();
    sorted.sort_unstable();
    sorted.dedup();
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for nr in sorted {
        match runs.last_mut() {
            Some((_, last)) if *last + 1 == nr => *last = nr,
            _ => runs.push((nr, nr)),
        }
    }
    let mut program = vec![stmt(LD_W_ABS, 0)];
    program.extend(search(&runs, action));
    program
}

/// A search over `runs` (sorted, disjoint, inclusive `(first, last)`) that returns
/// `action` when `A` is in one and falls through otherwise. Each inner node splits at
/// the middle run's first number: `A >=` it continues in the right half, anything else
/// in the left one, which jumps over the right half when it misses.
fn search(runs: &[(u32, u32)], action: u32) -> BpfProgram {
    const JEQ_K: u16 = 0x15;
    const JGT_K: u16 = 0x25;
    const JGE_K: u16 = 0x35;
    const JA: u16 = 0x05;
    match runs {
        [] => return Vec::new(),
        [(only, last)] if only == last => return vec![jump(JEQ_K, *only, 0, 1), ret(action)],
        [(first, last)] => {
            return vec![
                jump(JGE_K, *first, 0, 2),
                jump(JGT_K, *last, 1, 0),
                ret(action),
            ];
        }
        _ => {}
    }
    let mid = runs.len() / 2;
    let left = search(&runs[..mid], action);
    let right = search(&runs[mid..], action);
    // The right half starts after the left half and the jump that ends it.
    let to_right = left.len() + 1;
    let mut program = Vec::with_capacity(left.len() + right.len() + 3);
    match u8::try_from(to_right) {
        Ok(offset) => program.push(jump(JGE_K, runs[mid].0, offset, 0)),
        // A conditional jump reaches at most 255 instructions; JA takes 32 bits.
        Err(_) => {
            program.push(jump(JGE_K, runs[mid].0, 0, 1));
            program.push(stmt(JA, to_right as u32));
        }
    }
    program.extend(left);
    program.push(stmt(JA, right.len() as u32));
    program.extend(right);
    program
}

/// Turns every "no rule matched" return of one compiled filter into a jump to the
/// instruction just past it: the next filter, or the default action.
fn chain_to_next(program: &mut BpfProgram) {
    const RET_K: u16 = 0x06;
    const JA: u16 = 0x05;
    let marker = u32_of(NEXT_FILTER);
    let len = program.len();
    for (at, instruction) in program.iter_mut().enumerate() {
        if instruction.code == RET_K && instruction.k == marker {
            // Jumps are relative to the next instruction.
            *instruction = stmt(JA, (len - at - 1) as u32);
        }
    }
}

fn stmt(code: u16, k: u32) -> sock_filter {
    sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jump(code: u16, k: u32, jt: u8, jf: u8) -> sock_filter {
    sock_filter { code, jt, jf, k }
}

fn ret(k: u32) -> sock_filter {
    stmt(0x06, k)
}

fn u32_of(action: SeccompAction) -> u32 {
    action.into()
}

/// Adds `conditions` (alternatives; empty = the call matches by number alone) for
/// call `nr`. A call already matched by number alone stays so.
fn add_rules(rules: &mut BTreeMap<i64, Vec<SeccompRule>>, nr: i64, conditions: &[SeccompRule]) {
    match rules.get_mut(&nr) {
        Some(existing) if existing.is_empty() => {}
        Some(_) if conditions.is_empty() => {
            rules.insert(nr, Vec::new());
        }
        Some(existing) => existing.extend(conditions.iter().cloned()),
        None => {
            rules.insert(nr, conditions.to_vec());
        }
    }
}

/// A docker action name (and errno) as seccompiler's action.
fn action(name: &str, errno: Option<u32>) -> Result<SeccompAction, SeccompError> {
    let errno = errno.unwrap_or(libc::EPERM as u32);
    if errno > MAX_ERRNO {
        return Err(SeccompError::BadErrno(errno));
    }
    Ok(match name {
        "SCMP_ACT_ALLOW" => SeccompAction::Allow,
        "SCMP_ACT_ERRNO" => SeccompAction::Errno(errno),
        "SCMP_ACT_KILL" | "SCMP_ACT_KILL_THREAD" => SeccompAction::KillThread,
        "SCMP_ACT_KILL_PROCESS" => SeccompAction::KillProcess,
        "SCMP_ACT_TRAP" => SeccompAction::Trap,
        "SCMP_ACT_TRACE" => SeccompAction::Trace(errno),
        "SCMP_ACT_LOG" => SeccompAction::Log,
        other => return Err(SeccompError::UnknownAction(other.to_owned())),
    })
}

/// The rule's argument conditions as alternatives: one rule ANDing them all, or (as
/// runc reads a profile) one rule per condition when they all test the same argument,
/// which libseccomp could not AND.
fn conditions(rule: &SyscallRule) -> Result<Vec<SeccompRule>, SeccompError> {
    let parsed = rule
        .args
        .iter()
        .map(condition)
        .collect::<Result<Vec<_>, _>>()?;
    let rule_of = |conditions: Vec<SeccompCondition>| {
        SeccompRule::new(conditions).map_err(|e| SeccompError::Compile(e.to_string()))
    };
    let same_index = rule.args.windows(2).all(|w| w[0].index == w[1].index);
    match parsed.len() {
        0 => Ok(Vec::new()),
        1 => Ok(vec![rule_of(parsed)?]),
        _ if same_index => parsed.into_iter().map(|c| rule_of(vec![c])).collect(),
        _ => Ok(vec![rule_of(parsed)?]),
    }
}

fn condition(arg: &ArgCondition) -> Result<SeccompCondition, SeccompError> {
    let op = match arg.op.as_str() {
        "SCMP_CMP_EQ" => SeccompCmpOp::Eq,
        "SCMP_CMP_NE" => SeccompCmpOp::Ne,
        "SCMP_CMP_LT" => SeccompCmpOp::Lt,
        "SCMP_CMP_LE" => SeccompCmpOp::Le,
        "SCMP_CMP_GT" => SeccompCmpOp::Gt,
        "SCMP_CMP_GE" => SeccompCmpOp::Ge,
        "SCMP_CMP_MASKED_EQ" => SeccompCmpOp::MaskedEq(arg.value),
        other => return Err(SeccompError::UnknownOperator(other.to_owned())),
    };
    let value = match op {
        SeccompCmpOp::MaskedEq(_) => arg.value_two,
        _ => arg.value,
    };
    // Values that fit in 32 bits are compared on the low 32 bits only: the arguments
    // they are about (address families, flags, personas) are C ints, which the kernel
    // truncates, so garbage in the high half must not make `NE AF_VSOCK` true.
    let fits = arg.value <= u64::from(u32::MAX) && arg.value_two <= u64::from(u32::MAX);
    let len = if fits {
        SeccompCmpArgLen::Dword
    } else {
        SeccompCmpArgLen::Qword
    };
    SeccompCondition::new(arg.index, len, op, value)
        .map_err(|_| SeccompError::BadArgumentIndex(arg.index))
}

/// Whether docker's `includes`/`excludes` keep `rule` for `target`.
pub(super) fn applies(rule: &SyscallRule, target: Target) -> Result<bool, SeccompError> {
    if let Some(excludes) = &rule.excludes
        && (excludes.arches.iter().any(|a| a == NATIVE_ARCH)
            || any_cap(&excludes.caps, target.bounding)?
            || kernel_at_least(excludes, target.kernel)? == Some(true))
    {
        return Ok(false);
    }
    if let Some(includes) = &rule.includes
        && ((!includes.arches.is_empty() && !includes.arches.iter().any(|a| a == NATIVE_ARCH))
            || !all_caps(&includes.caps, target.bounding)?
            || kernel_at_least(includes, target.kernel)? == Some(false))
    {
        return Ok(false);
    }
    Ok(true)
}

fn cap_number(name: &str) -> Result<u32, SeccompError> {
    capabilities::parse(name).ok_or_else(|| SeccompError::UnknownCapability(name.to_owned()))
}

fn any_cap(caps: &[String], bounding: CapSet) -> Result<bool, SeccompError> {
    for cap in caps {
        if bounding.contains(cap_number(cap)?) {
            return Ok(true);
        }
    }
    Ok(false)
}

fn all_caps(caps: &[String], bounding: CapSet) -> Result<bool, SeccompError> {
    for cap in caps {
        if !bounding.contains(cap_number(cap)?) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Whether the kernel is at least the condition's `minKernel` (`None` without one).
fn kernel_at_least(
    condition: &Condition,
    kernel: (u32, u32),
) -> Result<Option<bool>, SeccompError> {
    let Some(wanted) = &condition.min_kernel else {
        return Ok(None);
    };
    let bad = || SeccompError::BadKernelVersion(wanted.clone());
    let (major, minor) = wanted.split_once('.').ok_or_else(bad)?;
    let wanted = (
        major.parse::<u32>().map_err(|_| bad())?,
        minor.parse::<u32>().map_err(|_| bad())?,
    );
    Ok(Some(kernel >= wanted))
}

/// `(major, minor)` of the running kernel, from `uname -r` (`6.18.44-…` → `(6, 18)`).
pub fn running_kernel() -> (u32, u32) {
    let release = nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut parts = release
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::super::interpret::{self, Call, Outcome};
    use super::*;
    use crate::security::capabilities::DOCKER_DEFAULT;

    fn target(bounding: CapSet) -> Target {
        Target {
            bounding,
            kernel: (6, 1),
        }
    }

    #[test]
    fn the_default_profile_fits_the_kernel_limit() {
        let program = compile(&super::super::docker_default(), target(DOCKER_DEFAULT)).unwrap();
        assert!(program.len() < 1000, "{}", program.len());
        assert!(program.len() > 100);
    }

    fn native(name: &str) -> Call {
        let nr = super::super::syscall_number(name).unwrap() as u32;
        Call {
            nr,
            arch: AUDIT_ARCH_X86_64,
            args: [0; 6],
        }
    }

    proptest::proptest! {
        // Up to 400 numbers out of 1024, mostly apart: the left half of the root then
        // needs more than 255 instructions, so the long-jump form of a split is taken
        // too; runs of neighbours come up as well.
        #[test]
        fn the_search_finds_exactly_its_numbers(
            numbers in proptest::collection::btree_set(0u32..1024, 0..400)
        ) {
            let list: Vec<i64> = numbers.iter().map(|n| i64::from(*n)).collect();
            let program = match_by_number(&list, libc::SECCOMP_RET_TRAP);
            for nr in 0..1100 {
                let call = Call { nr, arch: AUDIT_ARCH_X86_64, args: [0; 6] };
                match interpret::run(&program, call) {
                    Outcome::Returned { action, .. } => {
                        proptest::prop_assert!(numbers.contains(&nr), "{nr} matched");
                        proptest::prop_assert_eq!(action, libc::SECCOMP_RET_TRAP);
                    }
                    Outcome::FellThrough { .. } => {
                        proptest::prop_assert!(!numbers.contains(&nr), "{nr} missed");
                    }
                }
            }
        }
    }

    #[test]
    fn the_default_profile_decides_each_call_in_a_short_walk() {
        let program = compile(&super::super::docker_default(), target(DOCKER_DEFAULT)).unwrap();
        let eperm = libc::SECCOMP_RET_ERRNO | libc::EPERM as u32;
        for name in ["read", "write", "openat", "execve", "exit_group", "futex"] {
            match interpret::run(&program, native(name)) {
                Outcome::Returned { action, walked } => {
                    assert_eq!(action, libc::SECCOMP_RET_ALLOW, "{name}");
                    assert!(walked <= 30, "{name} walked {walked} instructions");
                }
                other => panic!("{name}: {other:?}"),
            }
        }
        for name in [
            "keyctl",
            "add_key",
            "request_key",
            "mount",
            "reboot",
            "kexec_load",
        ] {
            let outcome = interpret::run(&program, native(name));
            assert!(
                matches!(outcome, Outcome::Returned { action, .. } if action == eperm),
                "{name}: {outcome:?}"
            );
        }
        let mut x32 = native("read");
        x32.nr |= X32_SYSCALL_BIT;
        assert!(matches!(
            interpret::run(&program, x32),
            Outcome::Returned { action, .. } if action == eperm
        ));
        let mut i386 = native("read");
        i386.arch = 3 | 0x4000_0000;
        assert!(matches!(
            interpret::run(&program, i386),
            Outcome::Returned { action, .. } if action == libc::SECCOMP_RET_KILL_PROCESS
        ));
    }

    #[test]
    fn unknown_actions_and_operators_are_refused_by_name() {
        let profile =
            Profile::from_json(r#"{"defaultAction":"SCMP_ACT_NOTIFY","syscalls":[]}"#).unwrap();
        let error = compile(&profile, target(DOCKER_DEFAULT)).unwrap_err();
        assert!(error.to_string().contains("SCMP_ACT_NOTIFY"), "{error}");
        let profile = Profile::from_json(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["socket"],
                "action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":1,"op":"SCMP_CMP_ALMOST"}]}]}"#,
        )
        .unwrap();
        let error = compile(&profile, target(DOCKER_DEFAULT)).unwrap_err();
        assert!(error.to_string().contains("SCMP_CMP_ALMOST"), "{error}");
    }

    #[test]
    fn capability_conditions_follow_the_bounding_set() {
        let profile = super::super::docker_default();
        let rule = |name: &str, caps: CapSet| {
            profile
                .syscalls
                .iter()
                .filter(|r| r.all_names().any(|n| n == name))
                .filter(|r| applies(r, target(caps)).unwrap())
                .count()
        };
        let sys_admin = DOCKER_DEFAULT.with(capabilities::parse("SYS_ADMIN").unwrap());
        assert_eq!(rule("mount", DOCKER_DEFAULT), 0);
        assert_eq!(rule("mount", sys_admin), 1);
        assert_eq!(rule("keyctl", sys_admin), 0);
        // clone: flags-checked without SYS_ADMIN, free with it; clone3 → ENOSYS without.
        assert_eq!(rule("clone3", DOCKER_DEFAULT), 1);
        assert_eq!(rule("clone", sys_admin), 1);
    }
}
