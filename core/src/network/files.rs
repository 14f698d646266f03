//! The container's `/etc/hosts` and `/etc/resolv.conf` on a network.

use std::net::Ipv4Addr;

// ANCHOR: hosts
/// `/etc/hosts`: loopback, the container's own address under its names, then every
/// peer on the same user network (docker's embedded DNS does this for user networks;
/// a file is enough for names that change only when containers come and go).
pub fn hosts(own: Option<(Ipv4Addr, &[String])>, peers: &[(Ipv4Addr, Vec<String>)]) -> String {
    let mut text =
        String::from("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
    if let Some((ip, names)) = own {
        text.push_str(&format!("{ip}\t{}\n", names.join(" ")));
    }
    for (ip, names) in peers {
        text.push_str(&format!("{ip}\t{}\n", names.join(" ")));
    }
    text
}
// ANCHOR_END: hosts

// ANCHOR: resolv
/// `/etc/resolv.conf`: `--dns` servers when given, else the host's file — without its
/// loopback name servers (a resolver on the host's 127.0.0.53 is not reachable from
/// the container's own loopback), which docker replaces by public resolvers; vessel
/// leaves them out and says so in a comment.
pub fn resolv_conf(host: &str, dns: &[Ipv4Addr]) -> String {
    if !dns.is_empty() {
        return dns.iter().map(|ip| format!("nameserver {ip}\n")).collect();
    }
    let mut text = String::new();
    for line in host.lines() {
        let loopback = line
            .strip_prefix("nameserver")
            .map(str::trim)
            .and_then(|ip| ip.parse::<std::net::IpAddr>().ok())
            .is_some_and(|ip| ip.is_loopback());
        if loopback {
            text.push_str(&format!(
                "# {line} (the host's loopback: not reachable from a container)\n"
            ));
        } else {
            text.push_str(line);
            text.push('\n');
        }
    }
    text
}
// ANCHOR_END: resolv

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolv_conf_drops_loopback_servers_and_dns_replaces_all() {
        let host = "search lan\nnameserver 127.0.0.53\nnameserver 192.0.2.1\n";
        let text = resolv_conf(host, &[]);
        assert!(text.contains("search lan\n"));
        assert!(text.contains("\nnameserver 192.0.2.1\n"));
        assert!(!text.lines().any(|l| l == "nameserver 127.0.0.53"));
        assert_eq!(
            resolv_conf(host, &[Ipv4Addr::new(9, 9, 9, 9)]),
            "nameserver 9.9.9.9\n"
        );
    }

    #[test]
    fn hosts_names_the_container_and_its_peers() {
        let text = hosts(
            Some((
                Ipv4Addr::new(10, 0, 0, 2),
                &["web".to_owned(), "abc".to_owned()],
            )),
            &[(Ipv4Addr::new(10, 0, 0, 3), vec!["db".to_owned()])],
        );
        assert!(text.contains("10.0.0.2\tweb abc\n"));
        assert!(text.contains("10.0.0.3\tdb\n"));
    }
}
