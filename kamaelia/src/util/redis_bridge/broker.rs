//! [`Broker`]: a Redis broker's channel, named by a URL, and the two kinds of
//! connection the bridge makes to it.

use std::fmt;
use std::time::Duration;

use redis::{Client, Connection, RedisResult};

use super::BridgeError;

/// How long a connection attempt may take: a broker on a machine that is
/// down does not hold the bridge (or a server's start) for the system's
/// minutes-long TCP timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a command (a publication, the subscription) may wait for the
/// broker before the connection counts as lost: a broker that hangs is
/// treated as one that has gone.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(5);

/// A channel on a broker: `redis://[user[:password]@]host[:port]/channel`.
#[derive(Clone)]
pub(crate) struct Broker {
    client: Client,
    channel: String,
    /// The URL without its password, for messages and logs.
    shown: String,
}

impl Broker {
    /// Reads `url`. The path is the channel's name (Redis's pub/sub has no
    /// databases, so it is free for that).
    pub(crate) fn parse(url: &str) -> Result<Broker, BridgeError> {
        let shown = redact(url);
        let bad = |why: &str| BridgeError::Url {
            url: shown.clone(),
            why: why.to_string(),
        };
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| bad("not a URL: expected redis://HOST[:PORT]/CHANNEL"))?;
        if scheme != "redis" {
            return Err(bad("the scheme must be redis://"));
        }
        let (authority, channel) = rest.split_once('/').ok_or_else(|| {
            bad("no channel: the URL's path names it, as in redis://HOST:PORT/chat")
        })?;
        if channel.is_empty() {
            return Err(bad(
                "no channel: the URL's path names it, as in redis://HOST:PORT/chat",
            ));
        }
        if authority.is_empty() {
            return Err(bad("no host"));
        }
        let client =
            Client::open(format!("redis://{authority}/")).map_err(|e| bad(&e.to_string()))?;
        Ok(Broker {
            client,
            channel: channel.to_string(),
            shown,
        })
    }

    pub(crate) fn channel(&self) -> &str {
        &self.channel
    }

    /// A connection for publishing, its commands under the command timeout.
    pub(crate) fn publisher(&self) -> RedisResult<Connection> {
        let connection = self.client.get_connection_with_timeout(CONNECT_TIMEOUT)?;
        connection.set_write_timeout(Some(COMMAND_TIMEOUT))?;
        connection.set_read_timeout(Some(COMMAND_TIMEOUT))?;
        Ok(connection)
    }

    /// A connection subscribed to the channel: once this returns, every
    /// later publication on the channel reaches it.
    pub(crate) fn subscriber(&self) -> RedisResult<Connection> {
        let mut connection = self.client.get_connection_with_timeout(CONNECT_TIMEOUT)?;
        connection.set_write_timeout(Some(COMMAND_TIMEOUT))?;
        connection.set_read_timeout(Some(COMMAND_TIMEOUT))?;
        // Subscribed here rather than through a `PubSub`, which would
        // unsubscribe when dropped: the connection is handed to another
        // thread, which reads the messages through a `PubSub` of its own.
        redis::cmd("SUBSCRIBE")
            .arg(&self.channel)
            .query::<redis::Value>(&mut connection)?;
        Ok(connection)
    }

    /// The error for a broker that could not be reached.
    pub(crate) fn unreachable(&self, cause: &redis::RedisError) -> BridgeError {
        BridgeError::Unreachable {
            url: self.shown.clone(),
            cause: cause.to_string(),
        }
    }
}

impl fmt::Display for Broker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Debug for Broker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Broker({})", self.shown)
    }
}

/// `url` with any password replaced by `***`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user_info, host)) => {
            let user = user_info
                .split_once(':')
                .map_or(user_info, |(user, _)| user);
            let hidden = if user_info.contains(':') { ":***" } else { "" };
            format!("{scheme}://{user}{hidden}@{host}{path}")
        }
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_is_the_channel() {
        let broker = Broker::parse("redis://127.0.0.1:6400/chat").expect("a good URL");
        assert_eq!(broker.channel(), "chat");
        assert_eq!(broker.to_string(), "redis://127.0.0.1:6400/chat");
    }

    #[test]
    fn a_url_without_channel_host_or_redis_scheme_is_refused_with_the_reason() {
        for (url, why) in [
            ("redis://127.0.0.1:6400", "no channel"),
            ("redis://127.0.0.1:6400/", "no channel"),
            ("http://127.0.0.1/chat", "scheme"),
            ("127.0.0.1:6400/chat", "not a URL"),
            ("redis:///chat", "no host"),
        ] {
            let e = Broker::parse(url).expect_err(url).to_string();
            assert!(e.contains(why) && e.contains(url), "{url}: {e}");
        }
    }

    #[test]
    fn a_password_is_never_shown() {
        let url = "redis://me:secret@127.0.0.1:6400/chat";
        let broker = Broker::parse(url).expect("a good URL");
        assert_eq!(broker.to_string(), "redis://me:***@127.0.0.1:6400/chat");
        assert_eq!(redact("redis://:secret@h/c"), "redis://:***@h/c");
        assert_eq!(redact("redis://me@h/c"), "redis://me@h/c");
    }
}
