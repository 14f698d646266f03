//! The device rules as a `BPF_PROG_TYPE_CGROUP_DEVICE` program, for cgroup v2, which has
//! no `devices.allow` file. The kernel runs the program on every `mknod` and device open
//! in the cgroup with a `struct bpf_cgroup_dev_ctx`:
//!
//! ```text
//! u32 access_type   // low 16 bits: BPF_DEVCG_DEV_BLOCK 1 / _CHAR 2;
//!                   // high 16 bits: BPF_DEVCG_ACC_MKNOD 1 | _READ 2 | _WRITE 4
//! u32 major
//! u32 minor
//! ```
//!
//! and the access is allowed when it returns 1. The program is what runc and crun
//! generate: load the four values into r2..r5, then one block per allow rule that jumps
//! to the next block on any mismatch and returns 1 at its end; after the last block,
//! return 0 (deny). Pure: the tests read the instructions without a kernel.

use super::{Access, DeviceKind, DeviceRule, DeviceRules};

/// One eBPF instruction, laid out as the kernel's `struct bpf_insn`: opcode, registers
/// (destination in the low nibble, source in the high), a jump offset and an immediate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct Insn {
    code: u8,
    regs: u8,
    off: i16,
    imm: i32,
}

// Opcodes (include/uapi/linux/bpf.h, bpf_common.h): class | operation | source.
const LDX_MEM_W: u8 = 0x01 | 0x60; // BPF_LDX | BPF_MEM | BPF_W
const ALU32_AND_K: u8 = 0x04 | 0x50; // BPF_ALU | BPF_AND | BPF_K
const ALU32_RSH_K: u8 = 0x04 | 0x70; // BPF_ALU | BPF_RSH | BPF_K
const ALU32_MOV_K: u8 = 0x04 | 0xb0; // BPF_ALU | BPF_MOV | BPF_K
const ALU32_MOV_X: u8 = 0x04 | 0xb0 | 0x08; // BPF_ALU | BPF_MOV | BPF_X
const JNE_K: u8 = 0x05 | 0x50; // BPF_JMP | BPF_JNE | BPF_K
const JNE_X: u8 = 0x05 | 0x50 | 0x08; // BPF_JMP | BPF_JNE | BPF_X
const EXIT: u8 = 0x05 | 0x90; // BPF_JMP | BPF_EXIT

/// `BPF_DEVCG_DEV_BLOCK` and `BPF_DEVCG_DEV_CHAR`.
const DEV_BLOCK: i32 = 1;
const DEV_CHAR: i32 = 2;

// Registers: r1 holds the context on entry; r0 the return value.
const R0: u8 = 0;
const R1: u8 = 1;
const TYPE: u8 = 2;
const ACCESS: u8 = 3;
const MAJOR: u8 = 4;
const MINOR: u8 = 5;

impl Insn {
    fn new(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
        Insn {
            code,
            regs: (src << 4) | (dst & 0x0f),
            off,
            imm,
        }
    }

    /// The opcode byte.
    pub fn code(&self) -> u8 {
        self.code
    }
}

/// A jump to the next rule's block, its offset filled in once the block's length is
/// known.
const NEXT_BLOCK: i16 = i16::MIN;

// ANCHOR: program
/// The program for `rules`: allow what some rule allows, deny everything else.
pub fn program(rules: &DeviceRules) -> Vec<Insn> {
    let mut insns = vec![
        // r2 = ctx->access_type & 0xffff (the device type)
        Insn::new(LDX_MEM_W, TYPE, R1, 0, 0),
        Insn::new(ALU32_AND_K, TYPE, 0, 0, 0xffff),
        // r3 = ctx->access_type >> 16 (the access asked for)
        Insn::new(LDX_MEM_W, ACCESS, R1, 0, 0),
        Insn::new(ALU32_RSH_K, ACCESS, 0, 0, 16),
        // r4 = ctx->major, r5 = ctx->minor
        Insn::new(LDX_MEM_W, MAJOR, R1, 4, 0),
        Insn::new(LDX_MEM_W, MINOR, R1, 8, 0),
    ];
    for rule in rules.allowed() {
        insns.extend(block(rule));
    }
    insns.extend(verdict(false));
    insns
}

/// One rule: any mismatch jumps past the block, a match returns 1.
fn block(rule: &DeviceRule) -> Vec<Insn> {
    let mut block = Vec::new();
    if !rule.in_range() {
        // A number no device has (and that the compare below would sign-extend): the
        // rule can match nothing, so it adds nothing.
        return block;
    }
    match rule.kind {
        DeviceKind::Char => block.push(Insn::new(JNE_K, TYPE, 0, NEXT_BLOCK, DEV_CHAR)),
        DeviceKind::Block => block.push(Insn::new(JNE_K, TYPE, 0, NEXT_BLOCK, DEV_BLOCK)),
        DeviceKind::All => {}
    }
    if rule.access != Access::ALL {
        // Every way asked for must be allowed: (asked & allowed) == asked. r1 (the
        // context pointer) is free now that the values are loaded.
        block.push(Insn::new(ALU32_MOV_X, R1, ACCESS, 0, 0));
        block.push(Insn::new(
            ALU32_AND_K,
            R1,
            0,
            0,
            i32::from(rule.access.bits()),
        ));
        block.push(Insn::new(JNE_X, R1, ACCESS, NEXT_BLOCK, 0));
    }
    // Numbers are at most 4095:1048575 (checked when the rule was made), so the 64-bit
    // compare with the sign-extended immediate is exact.
    if let Some(major) = rule.major {
        block.push(Insn::new(JNE_K, MAJOR, 0, NEXT_BLOCK, major as i32));
    }
    if let Some(minor) = rule.minor {
        block.push(Insn::new(JNE_K, MINOR, 0, NEXT_BLOCK, minor as i32));
    }
    block.extend(verdict(true));
    let len = block.len();
    for (at, insn) in block.iter_mut().enumerate() {
        if insn.off == NEXT_BLOCK {
            // A jump lands at pc + 1 + off.
            insn.off = (len - at - 1) as i16;
        }
    }
    block
}
// ANCHOR_END: program

fn verdict(allow: bool) -> [Insn; 2] {
    [
        Insn::new(ALU32_MOV_K, R0, 0, 0, i32::from(allow)),
        Insn::new(EXIT, 0, 0, 0, 0),
    ]
}

/// Runs `program` on one request, as the kernel would: a tiny interpreter of exactly
/// the instructions [`program`] emits, so tests can check the program's decisions
/// against [`DeviceRules::permits`] without loading it.
#[cfg(test)]
pub fn run(program: &[Insn], kind: DeviceKind, major: u32, minor: u32, access: Access) -> bool {
    let dev_type = match kind {
        DeviceKind::Block => DEV_BLOCK as u64,
        _ => DEV_CHAR as u64,
    };
    let ctx = [
        (u64::from(access.bits()) << 16) | dev_type,
        major.into(),
        minor.into(),
    ];
    let mut reg = [0u64; 11];
    let mut pc = 0usize;
    loop {
        let insn = program[pc];
        let (dst, src) = (usize::from(insn.regs & 0x0f), usize::from(insn.regs >> 4));
        let imm = i64::from(insn.imm) as u64;
        pc += 1;
        match insn.code {
            LDX_MEM_W => {
                assert_eq!(src, usize::from(R1), "loads only from the context");
                reg[dst] = ctx[(insn.off / 4) as usize] & 0xffff_ffff;
            }
            ALU32_AND_K => reg[dst] = (reg[dst] & imm) & 0xffff_ffff,
            ALU32_RSH_K => reg[dst] = (reg[dst] & 0xffff_ffff) >> imm,
            ALU32_MOV_K => reg[dst] = imm & 0xffff_ffff,
            ALU32_MOV_X => reg[dst] = reg[src] & 0xffff_ffff,
            JNE_K if reg[dst] != imm => pc += insn.off as usize,
            JNE_X if reg[dst] != reg[src] => pc += insn.off as usize,
            JNE_K | JNE_X => {}
            EXIT => return reg[usize::from(R0)] == 1,
            other => panic!("opcode {other:#x} is not one program() emits"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_program_decides_as_the_rules_do() {
        let rules = DeviceRules::docker_default()
            .allow(DeviceRule::parse("c 10:229 rw").unwrap())
            .allow(DeviceRule::parse("b 7:* r").unwrap());
        let program = program(&rules);
        let accesses = ["r", "w", "m", "rw", "rm", "rwm"].map(|a| Access::parse(a).unwrap());
        let devices = [
            (1, 3),
            (1, 1),
            (5, 2),
            (10, 229),
            (10, 232),
            (136, 0),
            (136, 99),
            (7, 0),
            (7, 5),
            (254, 0),
        ];
        for kind in [DeviceKind::Char, DeviceKind::Block] {
            for (major, minor) in devices {
                for access in accesses {
                    assert_eq!(
                        run(&program, kind, major, minor, access),
                        rules.permits(kind, major, minor, access),
                        "{kind:?} {major}:{minor} {access}"
                    );
                }
            }
        }
    }

    #[test]
    fn an_empty_list_denies_everything_and_rwm_needs_no_access_check() {
        let deny = program(&DeviceRules::deny_all());
        assert_eq!(deny.len(), 8, "6 loads, then r0 = 0; exit");
        assert!(!run(&deny, DeviceKind::Char, 1, 3, Access::READ));
        let one = DeviceRules::deny_all().allow(DeviceRule::parse("c 1:3 rwm").unwrap());
        // type, major, minor checks and the verdict: no access check for rwm.
        assert_eq!(program(&one).len(), 6 + 5 + 2);
        let all = DeviceRules::deny_all().allow(DeviceRule::parse("a *:* rwm").unwrap());
        assert!(run(&program(&all), DeviceKind::Block, 8, 0, Access::WRITE));
    }

    #[test]
    fn the_first_instructions_read_the_context_as_runc_does() {
        let program = program(&DeviceRules::docker_default());
        let head: Vec<(u8, u8, i16, i32)> = program[..6]
            .iter()
            .map(|i| (i.code, i.regs, i.off, i.imm))
            .collect();
        assert_eq!(
            head,
            [
                (0x61, 0x12, 0, 0),
                (0x54, 0x02, 0, 0xffff),
                (0x61, 0x13, 0, 0),
                (0x74, 0x03, 0, 16),
                (0x61, 0x14, 4, 0),
                (0x61, 0x15, 8, 0),
            ]
        );
        assert_eq!(program.last().map(Insn::code), Some(EXIT));
    }
}
