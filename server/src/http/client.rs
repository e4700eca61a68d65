//! Who sent a request: the connection's peer, or, when that peer is a proxy the settings
//! trust, the client it reports in `X-Forwarded-For` and whether it spoke HTTPS. The sign-in
//! limit counts per client address, so behind a proxy it must be the client's, and a client
//! must not be able to choose its own by sending the header itself.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;

/// The proxies whose forwarding headers count, and whether the site is HTTPS-only.
#[derive(Debug, Clone, Default)]
pub struct Proxies {
    trusted: Arc<[IpNet]>,
    https_only: bool,
}

/// Where a request came from, as far as it can be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Client {
    pub address: IpAddr,
    /// The browser reached the site over HTTPS: cookies are `Secure`, HSTS is sent.
    pub over_tls: bool,
}

impl Proxies {
    pub fn new(trusted: Vec<IpNet>, https_only: bool) -> Proxies {
        Proxies {
            trusted: trusted.into(),
            https_only,
        }
    }

    fn trusts(&self, address: IpAddr) -> bool {
        self.trusted.iter().any(|net| net.contains(&address))
    }

    /// The client behind a connection from `peer`. From a trusted proxy, the address is the
    /// rightmost `X-Forwarded-For` hop that is not itself a trusted proxy: hops to its left
    /// were written by the client and could say anything.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> Client {
        if !self.trusts(peer) {
            return Client {
                address: peer,
                over_tls: self.https_only,
            };
        }
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect();
        let mut address = peer;
        for hop in hops.iter().rev() {
            // A hop that is not an address ends the walk at the last one that was.
            let Ok(hop) = hop.parse::<IpAddr>() else {
                break;
            };
            address = hop;
            if !self.trusts(hop) {
                break;
            }
        }
        Client {
            address,
            over_tls: self.https_only || forwarded_https(headers),
        }
    }
}

/// Whether the proxy says the client spoke HTTPS (`X-Forwarded-Proto` or `Forwarded`).
fn forwarded_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
        || headers
            .get(header::FORWARDED)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|forwarded| forwarded.to_ascii_lowercase().contains("proto=https"))
}

/// Middleware: works out the request's [`Client`] once, for the handlers and the headers.
pub async fn identify(
    State(proxies): State<Proxies>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |ConnectInfo(peer)| {
            peer.ip()
        });
    let client = proxies.client(peer, request.headers());
    request.extensions_mut().insert(client);
    next.run(request).await
}

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Client, Infallible> {
        Ok(parts.extensions.get::<Client>().copied().unwrap_or(Client {
            address: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            over_tls: false,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, HeaderValue::from_static(value));
        }
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn behind(trusted: &[&str]) -> Proxies {
        Proxies::new(trusted.iter().map(|n| n.parse().unwrap()).collect(), false)
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client_whatever_the_headers_say() {
        let sent = headers(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("x-forwarded-proto", "https"),
        ]);
        let client = Proxies::default().client(ip("198.51.100.1"), &sent);
        assert_eq!(
            client,
            Client {
                address: ip("198.51.100.1"),
                over_tls: false
            }
        );
    }

    #[test]
    fn behind_a_trusted_proxy_the_rightmost_untrusted_hop_is_the_client() {
        let proxies = behind(&["10.0.0.0/8"]);
        // The client made up the first hop; the proxy appended what it saw.
        let sent = headers(&[
            ("x-forwarded-for", "1.2.3.4, 203.0.113.9"),
            ("x-forwarded-for", "10.1.2.3"),
            ("x-forwarded-proto", "https"),
        ]);
        let client = proxies.client(ip("10.0.0.5"), &sent);
        assert_eq!(client.address, ip("203.0.113.9"));
        assert!(client.over_tls);
    }

    #[test]
    fn a_garbled_or_missing_hop_leaves_the_last_address_read() {
        let proxies = behind(&["10.0.0.5/32"]);
        let garbled = headers(&[("x-forwarded-for", "nonsense, 10.0.0.5")]);
        assert_eq!(
            proxies.client(ip("10.0.0.5"), &garbled).address,
            ip("10.0.0.5")
        );
        assert_eq!(
            proxies.client(ip("10.0.0.5"), &HeaderMap::new()).address,
            ip("10.0.0.5")
        );
    }

    #[test]
    fn an_https_only_site_marks_every_client_as_tls() {
        let proxies = Proxies::new(Vec::new(), true);
        assert!(
            proxies
                .client(ip("198.51.100.1"), &HeaderMap::new())
                .over_tls
        );
    }
}
