//! The AMQP URL: credentials, virtual host and TLS (`amqps://`) all come from it, so it holds a
//! password. `AmqpUrl` prints itself with the password replaced by `***`; only `connect` sees the
//! secret.

use std::fmt;
use std::str::FromStr;

use lapin::uri::AMQPUri;

use super::BrokerError;

/// An `amqp://` or `amqps://` URL, checked once by `parse`. `Display` and `Debug` hide the password.
#[derive(Clone, PartialEq, Eq)]
pub struct AmqpUrl(String);

/// The default for `CLEARWAY_AMQP_URL`: the local broker's guest account and the `/` vhost.
pub const DEFAULT_AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

impl AmqpUrl {
    /// Checks the URL (scheme, host, port, vhost) with lapin's own parser.
    pub fn parse(text: &str) -> Result<AmqpUrl, BrokerError> {
        match AMQPUri::from_str(text) {
            Ok(_) => Ok(AmqpUrl(text.to_owned())),
            Err(problem) => Err(BrokerError::Url {
                url: redact(text),
                problem,
            }),
        }
    }

    /// `CLEARWAY_AMQP_URL`, or the local default when it is unset.
    pub fn from_env() -> Result<AmqpUrl, BrokerError> {
        match std::env::var("CLEARWAY_AMQP_URL") {
            Ok(text) if !text.trim().is_empty() => AmqpUrl::parse(text.trim()),
            _ => AmqpUrl::parse(DEFAULT_AMQP_URL),
        }
    }

    /// The URL with its password, for the connection only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the connection uses TLS (`amqps://`, through rustls).
    pub fn is_tls(&self) -> bool {
        self.0
            .get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("amqps://"))
    }
}

impl fmt::Display for AmqpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(&self.0))
    }
}

impl fmt::Debug for AmqpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AmqpUrl({})", redact(&self.0))
    }
}

/// Replaces the password of `scheme://user:password@host…` with `***`. Works on any text, so an
/// URL that does not parse is still printed without its secret.
pub fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = url.get(scheme_end..).unwrap_or("");
    // The authority ends at the first '/', '?' or '#'; the userinfo ends at its last '@'.
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = rest.get(..authority_len).unwrap_or("");
    let Some(at) = authority.rfind('@') else {
        return url.to_owned();
    };
    let userinfo = authority.get(..at).unwrap_or("");
    let Some(colon) = userinfo.find(':') else {
        return url.to_owned();
    };
    let user = userinfo.get(..colon).unwrap_or("");
    format!(
        "{}{user}:***{}",
        url.get(..scheme_end).unwrap_or(""),
        rest.get(at..).unwrap_or("")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_never_printed() {
        let url = AmqpUrl::parse("amqps://clearing:s3cr%40t@mq.example:5671/prod").unwrap();
        assert_eq!(url.to_string(), "amqps://clearing:***@mq.example:5671/prod");
        assert_eq!(
            format!("{url:?}"),
            "AmqpUrl(amqps://clearing:***@mq.example:5671/prod)"
        );
        assert!(url.is_tls());
        assert!(!AmqpUrl::parse(DEFAULT_AMQP_URL).unwrap().is_tls());
    }

    #[test]
    fn redact_edge_cases() {
        #[rustfmt::skip]
        let table = [
            ("amqp://127.0.0.1:5672/%2f",            "amqp://127.0.0.1:5672/%2f"),
            ("amqp://user@host/v",                   "amqp://user@host/v"),
            ("amqp://u:p@ss@host/v",                 "amqp://u:***@host/v"),
            ("amqp://u:pw@host/v?x=a@b",             "amqp://u:***@host/v?x=a@b"),
            ("not a url u:pw@host",                  "not a url u:pw@host"),
            ("amqp://u:pw@",                         "amqp://u:***@"),
        ];
        for (input, expected) in table {
            assert_eq!(redact(input), expected, "{input}");
        }
    }

    #[test]
    fn a_bad_url_is_an_error_without_the_password() {
        let err = AmqpUrl::parse("amqp://u:topsecret@host:notaport/").unwrap_err();
        let text = err.to_string();
        assert!(!text.contains("topsecret"), "{text}");
    }
}
