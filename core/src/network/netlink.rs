//! A synchronous rtnetlink socket: one request, its acknowledgement or its dump.
//!
//! `rtnetlink` would need an async runtime for what is a handful of request/answer
//! exchanges at container start; netavark made the same choice and drives
//! `netlink-packet-route` messages over a blocking `netlink-sys` socket. The socket is
//! bound to the network namespace of the thread that creates it (see
//! [`super::netns::socket_in`]), which is how the parent configures a container's
//! `eth0` without entering its namespace itself.

use std::io;

use netlink_packet_core::{
    NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};

use super::error::{NetworkError, Result};

/// The kernel's NLMSG_GOODSIZE: no single rtnetlink answer is larger.
const BUFFER: usize = 16 * 1024;

/// An rtnetlink socket in one network namespace.
pub struct Netlink {
    socket: Socket,
    sequence: u32,
    buffer: Vec<u8>,
}

impl std::fmt::Debug for Netlink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Netlink")
            .field("sequence", &self.sequence)
            .finish()
    }
}

impl Netlink {
    /// A socket in the calling thread's network namespace.
    pub fn open() -> Result<Netlink> {
        let fail = |source| NetworkError::Netlink {
            step: "open an rtnetlink socket".to_owned(),
            source,
        };
        let mut socket = Socket::new(NETLINK_ROUTE).map_err(fail)?;
        socket.bind_auto().map_err(fail)?;
        socket.connect(&SocketAddr::new(0, 0)).map_err(fail)?;
        Ok(Netlink {
            socket,
            sequence: 0,
            buffer: vec![0; BUFFER],
        })
    }

    /// Sends `message` and waits for the kernel's acknowledgement.
    pub fn request(&mut self, step: &str, message: RouteNetlinkMessage, flags: u16) -> Result<()> {
        self.send(step, message, flags | NLM_F_ACK)?;
        self.receive(step, false).map(drop)
    }

    /// Sends a dump request and collects every answer.
    pub fn dump(
        &mut self,
        step: &str,
        message: RouteNetlinkMessage,
    ) -> Result<Vec<RouteNetlinkMessage>> {
        self.send(step, message, NLM_F_DUMP)?;
        self.receive(step, true)
    }

    /// Sends a request that answers with one message (a `GET` of one object).
    pub fn get(&mut self, step: &str, message: RouteNetlinkMessage) -> Result<RouteNetlinkMessage> {
        self.send(step, message, 0)?;
        let mut answers = self.receive(step, false)?;
        answers.pop().ok_or_else(|| NetworkError::NetlinkReply {
            step: step.to_owned(),
            detail: "no answer".to_owned(),
        })
    }

    fn send(&mut self, step: &str, message: RouteNetlinkMessage, flags: u16) -> Result<()> {
        let mut packet =
            NetlinkMessage::new(NetlinkHeader::default(), NetlinkPayload::from(message));
        self.sequence += 1;
        packet.header.flags = NLM_F_REQUEST | flags;
        packet.header.sequence_number = self.sequence;
        packet.finalize();
        let mut bytes = vec![0; packet.buffer_len()];
        packet.serialize(&mut bytes);
        self.socket
            .send(&bytes, 0)
            .map(drop)
            .map_err(|source| NetworkError::Netlink {
                step: step.to_owned(),
                source,
            })
    }

    /// Reads answers until the acknowledgement (or, for a dump, `NLMSG_DONE`).
    fn receive(&mut self, step: &str, dump: bool) -> Result<Vec<RouteNetlinkMessage>> {
        let mut answers = Vec::new();
        loop {
            let size = self
                .socket
                .recv(&mut &mut self.buffer[..], 0)
                .map_err(|source| NetworkError::Netlink {
                    step: step.to_owned(),
                    source,
                })?;
            let mut rest = &self.buffer[..size];
            while !rest.is_empty() {
                let packet =
                    NetlinkMessage::<RouteNetlinkMessage>::deserialize(rest).map_err(|e| {
                        NetworkError::NetlinkReply {
                            step: step.to_owned(),
                            detail: e.to_string(),
                        }
                    })?;
                let length = packet.header.length as usize;
                if packet.header.sequence_number == self.sequence {
                    match packet.payload {
                        NetlinkPayload::Done(_) => return Ok(answers),
                        NetlinkPayload::Error(error) => {
                            return match error.code {
                                Some(code) => Err(NetworkError::Netlink {
                                    step: step.to_owned(),
                                    source: io::Error::from_raw_os_error(-code.get()),
                                }),
                                None => Ok(answers),
                            };
                        }
                        NetlinkPayload::InnerMessage(message) => {
                            answers.push(message);
                            if !dump {
                                return Ok(answers);
                            }
                        }
                        _ => {}
                    }
                }
                if length == 0 || length > rest.len() {
                    break;
                }
                rest = &rest[length..];
            }
        }
    }
}

/// Whether `error` is the kernel's `errno` for this netlink step.
pub fn is_errno(error: &NetworkError, errno: i32) -> bool {
    matches!(error, NetworkError::Netlink { source, .. } if source.raw_os_error() == Some(errno))
}
