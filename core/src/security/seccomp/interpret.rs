//! A classic-BPF interpreter for the instructions vessel's filters use, so tests can
//! ask what a compiled program decides for a call, and how many instructions it
//! walked, without installing it (an installed filter cannot be removed again).

use seccompiler::{BpfProgram, sock_filter};

/// The `struct seccomp_data` a filter reads: the call, its architecture, its arguments.
#[derive(Debug, Clone, Copy)]
pub struct Call {
    pub nr: u32,
    pub arch: u32,
    pub args: [u64; 6],
}

/// How one run of a program ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A `ret` with this action, after this many instructions.
    Returned { action: u32, walked: usize },
    /// The program ran off its end: where a sub-program (such as one search) falls
    /// through to whatever follows it.
    FellThrough { walked: usize },
}

/// Runs `program` on `call`. Panics on an instruction vessel never emits.
pub fn run(program: &BpfProgram, call: Call) -> Outcome {
    let mut accumulator: u32 = 0;
    let mut pc = 0;
    let mut walked = 0;
    while let Some(&sock_filter { code, jt, jf, k }) = program.get(pc) {
        walked += 1;
        pc += 1;
        match code {
            // BPF_LD | BPF_W | BPF_ABS: a 32-bit word of seccomp_data.
            0x20 => accumulator = word(call, k),
            // BPF_ALU | BPF_AND | BPF_K
            0x54 => accumulator &= k,
            // BPF_JMP | BPF_JA
            0x05 => pc += k as usize,
            // BPF_JMP | BPF_JEQ / BPF_JGT / BPF_JGE / BPF_JSET, with BPF_K
            0x15 | 0x25 | 0x35 | 0x45 => {
                let taken = match code {
                    0x15 => accumulator == k,
                    0x25 => accumulator > k,
                    0x35 => accumulator >= k,
                    _ => accumulator & k != 0,
                };
                pc += usize::from(if taken { jt } else { jf });
            }
            // BPF_RET | BPF_K
            0x06 => return Outcome::Returned { action: k, walked },
            other => panic!("instruction {other:#x} at {} is not interpreted", pc - 1),
        }
    }
    Outcome::FellThrough { walked }
}

/// The 32-bit word at byte `offset` of `struct seccomp_data` (nr, arch, ip, args).
fn word(call: Call, offset: u32) -> u32 {
    match offset {
        0 => call.nr,
        4 => call.arch,
        8 | 12 => 0,
        16..=63 if offset.is_multiple_of(4) => {
            let arg = call.args[(offset as usize - 16) / 8];
            if offset.is_multiple_of(8) {
                arg as u32
            } else {
                (arg >> 32) as u32
            }
        }
        _ => panic!("seccomp_data has no word at {offset}"),
    }
}
