//! The distribution-API client: `oci-client` over HTTPS with the system's CA store
//! (rustls with rustls-platform-verifier), and plain HTTP only for a registry on the
//! loopback interface (`127.0.0.1:PORT`, `localhost:PORT`, `[::1]:PORT`), where a test or
//! a developer runs one without a certificate, as docker treats `127.0.0.0/8`.

use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};

use super::error::RegistryError;

/// Parses `text` as a registry reference (`busybox` is `docker.io/library/busybox:latest`).
pub fn parse_reference(text: &str) -> Result<Reference, RegistryError> {
    text.parse::<Reference>()
        .map_err(|source| RegistryError::BadReference {
            reference: text.to_owned(),
            source,
        })
}

/// Whether `registry` (`HOST[:PORT]`) is on the loopback interface.
pub fn is_loopback(registry: &str) -> bool {
    let host = match registry.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(rest),
        None => registry.split(':').next().unwrap_or(registry),
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A client for `reference`'s registry, and the credentials to use (anonymous, or
/// `VESSEL_REGISTRY_AUTH=USER:PASSWORD`).
pub fn client_for(reference: &Reference) -> Result<(Client, RegistryAuth), RegistryError> {
    // reqwest is built without a default crypto provider (aws-lc needs cmake); ring is
    // installed once per process. A second install fails harmlessly.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let registry = reference.resolve_registry().to_owned();
    let protocol = if is_loopback(&registry) {
        ClientProtocol::HttpsExcept(vec![registry])
    } else {
        ClientProtocol::Https
    };
    let config = ClientConfig {
        protocol,
        ..ClientConfig::default()
    };
    let client = Client::try_from(config).map_err(|e| RegistryError::Client(e.to_string()))?;
    let auth = match std::env::var("VESSEL_REGISTRY_AUTH") {
        Ok(pair) => match pair.split_once(':') {
            Some((user, password)) => RegistryAuth::Basic(user.to_owned(), password.to_owned()),
            None => RegistryAuth::Anonymous,
        },
        Err(_) => RegistryAuth::Anonymous,
    };
    Ok((client, auth))
}

/// A single-threaded runtime for one command: the CLI is synchronous, and one pull or
/// push at a time needs no more.
pub fn runtime() -> Result<tokio::runtime::Runtime, RegistryError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| RegistryError::Client(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::is_loopback;

    #[test]
    fn only_loopback_registries_are_spoken_to_in_plain_http() {
        for local in [
            "127.0.0.1:5000",
            "localhost:5000",
            "[::1]:5000",
            "127.1.2.3",
        ] {
            assert!(is_loopback(local), "{local}");
        }
        for remote in [
            "docker.io",
            "10.0.0.1:5000",
            "registry.local:5000",
            "[fe80::1]:5000",
        ] {
            assert!(!is_loopback(remote), "{remote}");
        }
    }
}
