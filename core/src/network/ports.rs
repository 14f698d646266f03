//! `-p [IP:]HOSTPORT:CTRPORT[/tcp|udp]`: a port of the host forwarded to the container.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

/// A transport protocol a port belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// TCP (the default).
    Tcp,
    /// UDP.
    Udp,
}

impl Protocol {
    /// As nftables spells it.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

/// One `-p`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortMapping {
    /// Only connections to this host address (`None`: any of the host's addresses).
    pub host_ip: Option<Ipv4Addr>,
    /// The host's port.
    pub host_port: u16,
    /// The container's port.
    pub container_port: u16,
    /// TCP or UDP.
    pub protocol: Protocol,
}

impl std::str::FromStr for PortMapping {
    type Err = String;

    fn from_str(text: &str) -> Result<PortMapping, String> {
        let usage =
            || format!("-p {text:?}: expected [IP:]HOSTPORT:CONTAINERPORT[/tcp|udp], e.g. 8080:80");
        let (ports, protocol) = match text.rsplit_once('/') {
            Some((ports, "tcp")) => (ports, Protocol::Tcp),
            Some((ports, "udp")) => (ports, Protocol::Udp),
            Some((_, other)) => {
                return Err(format!(
                    "-p {text:?}: unknown protocol {other:?} (use tcp or udp)"
                ));
            }
            None => (text, Protocol::Tcp),
        };
        let parts: Vec<&str> = ports.split(':').collect();
        let (host_ip, host, container) = match parts.as_slice() {
            [host, container] => (None, *host, *container),
            [ip, host, container] => {
                let ip = ip.parse::<Ipv4Addr>().map_err(|_| {
                    format!("-p {text:?}: {ip:?} is not an IPv4 address of the host")
                })?;
                (Some(ip), *host, *container)
            }
            _ => return Err(usage()),
        };
        let port = |p: &str| match p.parse::<u16>() {
            Ok(0) | Err(_) => Err(format!("-p {text:?}: {p:?} is not a port (1-65535)")),
            Ok(n) => Ok(n),
        };
        Ok(PortMapping {
            host_ip,
            host_port: port(host)?,
            container_port: port(container)?,
            protocol,
        })
    }
}

impl std::fmt::Display for PortMapping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(ip) = self.host_ip {
            write!(f, "{ip}:")?;
        }
        write!(
            f,
            "{}:{}/{}",
            self.host_port,
            self.container_port,
            self.protocol.name()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_spellings_parse_and_nonsense_is_refused() {
        let p: PortMapping = "8080:80".parse().unwrap();
        assert_eq!(
            (p.host_ip, p.host_port, p.container_port, p.protocol),
            (None, 8080, 80, Protocol::Tcp)
        );
        let p: PortMapping = "127.0.0.1:53:5353/udp".parse().unwrap();
        assert_eq!(p.host_ip, Some(Ipv4Addr::LOCALHOST));
        assert_eq!(p.protocol, Protocol::Udp);
        assert_eq!(p.to_string(), "127.0.0.1:53:5353/udp");
        for bad in [
            "80",
            "0:80",
            "8080:70000",
            "x:80",
            "1.2.3:80:80",
            "80:80/sctp",
            "a:b:c:d",
        ] {
            assert!(bad.parse::<PortMapping>().is_err(), "{bad} was accepted");
        }
    }
}
