//! What `MCPGATE_REDIS_URL` names: one node, a cluster, or a Sentinel set.
//!
//! - `redis://[user:password@]host:port[/db]`: one node (the redis crate's own syntax).
//! - `redis+cluster://[user:password@]host:port,host:port,...`: a Redis Cluster; the
//!   nodes are seeds (any live one is enough to learn the slot map). No database number:
//!   a cluster has only database 0.
//! - `redis+sentinel://[user:password@]host:port,host:port,.../<master name>[/db]`: the
//!   sentinels watching the master named `<master name>`. The credentials and database
//!   are the data nodes'; the sentinels are asked without credentials.
//!
//! A port may be left out (6379 for nodes, 26379 for sentinels).
//!
//! TLS: `rediss://`, `rediss+cluster://` and `rediss+sentinel://` speak TLS to every
//! node (with Sentinel, to the sentinels too), verifying each certificate against the
//! trusted CAs ([`super::tls`]). The redis crate's `#insecure` (no verification) is
//! refused: trust a private CA instead.

use std::fmt;

use crate::StoreError;

/// A `host:port` of a cluster node or a sentinel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NodeAddr {
    pub(crate) host: String,
    pub(crate) port: u16,
}

impl fmt::Display for NodeAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// Credentials, database and TLS for the data nodes of a cluster or a Sentinel set.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct NodeAuth {
    pub(crate) username: Option<String>,
    pub(crate) password: Option<String>,
    pub(crate) db: i64,
    /// TLS to every node (the `rediss+` schemes).
    pub(crate) tls: bool,
}

impl fmt::Debug for NodeAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeAuth")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("db", &self.db)
            .field("tls", &self.tls)
            .finish()
    }
}

impl NodeAuth {
    /// How the sentinels are asked: without credentials, with TLS as the data nodes.
    pub(crate) fn sentinel(&self) -> Self {
        Self {
            tls: self.tls,
            ..Self::default()
        }
    }

    /// The redis crate's connection info for the data node at `addr`.
    pub(crate) fn connection_info(&self, addr: &NodeAddr) -> redis::ConnectionInfo {
        let (host, port) = (addr.host.clone(), addr.port);
        redis::ConnectionInfo {
            addr: if self.tls {
                redis::ConnectionAddr::TcpTls {
                    host,
                    port,
                    insecure: false,
                    tls_params: None,
                }
            } else {
                redis::ConnectionAddr::Tcp(host, port)
            },
            redis: redis::RedisConnectionInfo {
                db: self.db,
                username: self.username.clone(),
                password: self.password.clone(),
                ..redis::RedisConnectionInfo::default()
            },
        }
    }
}

/// A parsed `MCPGATE_REDIS_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RedisTarget {
    /// One node; the URL as the redis crate reads it.
    Single(String),
    /// Seeds of a Redis Cluster.
    Cluster {
        seeds: Vec<NodeAddr>,
        auth: NodeAuth,
    },
    /// A Sentinel set and the master it watches.
    Sentinel {
        sentinels: Vec<NodeAddr>,
        master_name: String,
        auth: NodeAuth,
    },
}

/// The schemes of a cluster and of a Sentinel set, plain and over TLS.
const CLUSTER_SCHEMES: [(&str, bool); 2] =
    [("redis+cluster://", false), ("rediss+cluster://", true)];
const SENTINEL_SCHEMES: [(&str, bool); 2] =
    [("redis+sentinel://", false), ("rediss+sentinel://", true)];

fn strip_scheme<'a>(url: &'a str, schemes: &[(&str, bool)]) -> Option<(&'a str, bool)> {
    schemes
        .iter()
        .find_map(|(scheme, tls)| Some((url.strip_prefix(scheme)?, *tls)))
}

fn invalid(reason: impl Into<String>) -> StoreError {
    StoreError::InvalidUrl {
        what: "redis",
        reason: reason.into(),
    }
}

impl RedisTarget {
    /// Parses a URL in one of the three forms of the module's documentation.
    pub(crate) fn parse(url: &str) -> Result<Self, StoreError> {
        if url.contains('#') {
            return Err(invalid(
                "no #fragment: #insecure (TLS without verifying the certificate) is not supported; \
                 trust a private CA with MCPGATE_REDIS_CA_FILE",
            ));
        }
        if let Some((rest, tls)) = strip_scheme(url, &CLUSTER_SCHEMES) {
            let (mut auth, rest) = split_auth(rest)?;
            auth.tls = tls;
            if rest.contains('/') {
                return Err(invalid(
                    "a redis+cluster:// URL lists nodes only (a cluster has no database number)",
                ));
            }
            let seeds = parse_nodes(rest, 6379)?;
            return Ok(Self::Cluster { seeds, auth });
        }
        if let Some((rest, tls)) = strip_scheme(url, &SENTINEL_SCHEMES) {
            let (mut auth, rest) = split_auth(rest)?;
            auth.tls = tls;
            let (nodes, path) = rest.split_once('/').ok_or_else(|| {
                invalid("a redis+sentinel:// URL ends with /<master name>, e.g. redis+sentinel://127.0.0.1:26379/mymaster")
            })?;
            let (master_name, db) = match path.split_once('/') {
                Some((name, db)) => (name, Some(db)),
                None => (path, None),
            };
            if master_name.is_empty() {
                return Err(invalid("the Sentinel master name is empty"));
            }
            if let Some(db) = db {
                auth.db = db
                    .parse()
                    .map_err(|_| invalid(format!("the database number {db:?} is not a number")))?;
            }
            let sentinels = parse_nodes(nodes, 26379)?;
            return Ok(Self::Sentinel {
                sentinels,
                master_name: master_name.to_owned(),
                auth,
            });
        }
        if url.starts_with("redis://") || url.starts_with("rediss://") || url.starts_with("unix:") {
            if url.contains(',') {
                return Err(invalid(
                    "several nodes need redis+cluster:// or redis+sentinel://",
                ));
            }
            return Ok(Self::Single(url.to_owned()));
        }
        Err(invalid(
            "it must start with redis://, rediss://, redis+cluster://, rediss+cluster://, \
             redis+sentinel:// or rediss+sentinel://",
        ))
    }

    /// Whether every connection is TLS.
    pub(crate) fn tls(&self) -> bool {
        match self {
            Self::Single(url) => url.starts_with("rediss://"),
            Self::Cluster { auth, .. } | Self::Sentinel { auth, .. } => auth.tls,
        }
    }

    /// `single`, `cluster` or `sentinel`, as readiness reports it.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::Single(_) => "single",
            Self::Cluster { .. } => "cluster",
            Self::Sentinel { .. } => "sentinel",
        }
    }
}

/// Splits `user:password@` (percent-decoded) off the front of what follows the scheme.
fn split_auth(rest: &str) -> Result<(NodeAuth, &str), StoreError> {
    let Some((userinfo, rest)) = rest.rsplit_once('@') else {
        return Ok((NodeAuth::default(), rest));
    };
    let (username, password) = match userinfo.split_once(':') {
        Some((user, password)) => (user, Some(password)),
        None => (userinfo, None),
    };
    let decode = |text: &str| {
        percent_decode(text).ok_or_else(|| invalid("bad percent-encoding in the credentials"))
    };
    Ok((
        NodeAuth {
            username: (!username.is_empty())
                .then(|| decode(username))
                .transpose()?,
            password: password.map(decode).transpose()?,
            db: 0,
            tls: false,
        },
        rest,
    ))
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = text.get(index + 1..index + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `host[:port],host[:port],...`; `[v6]:port` for IPv6.
fn parse_nodes(list: &str, default_port: u16) -> Result<Vec<NodeAddr>, StoreError> {
    let mut nodes = Vec::new();
    for node in list.split(',') {
        let node = node.trim();
        if node.is_empty() {
            return Err(invalid("an empty node in the node list"));
        }
        let (host, port) = if let Some(rest) = node.strip_prefix('[') {
            let (host, after) = rest
                .split_once(']')
                .ok_or_else(|| invalid(format!("unclosed [ in {node:?}")))?;
            (host, after.strip_prefix(':'))
        } else {
            match node.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (node, None),
            }
        };
        if host.is_empty() {
            return Err(invalid(format!("no host in {node:?}")));
        }
        let port = match port {
            None => default_port,
            Some(port) => port
                .parse()
                .ok()
                .filter(|port| *port != 0)
                .ok_or_else(|| invalid(format!("the port of {node:?} is not a port number")))?,
        };
        nodes.push(NodeAddr {
            host: host.to_owned(),
            port,
        });
    }
    Ok(nodes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(host: &str, port: u16) -> NodeAddr {
        NodeAddr {
            host: host.into(),
            port,
        }
    }

    #[test]
    fn a_plain_url_is_one_node() {
        assert_eq!(
            RedisTarget::parse("redis://127.0.0.1:6379/2").unwrap(),
            RedisTarget::Single("redis://127.0.0.1:6379/2".into())
        );
    }

    #[test]
    fn a_cluster_url_lists_its_seeds_with_default_ports() {
        let target =
            RedisTarget::parse("redis+cluster://:s%40cret@10.0.0.1:7000,10.0.0.2,[::1]:7002")
                .unwrap();
        assert_eq!(
            target,
            RedisTarget::Cluster {
                seeds: vec![
                    node("10.0.0.1", 7000),
                    node("10.0.0.2", 6379),
                    node("::1", 7002)
                ],
                auth: NodeAuth {
                    username: None,
                    password: Some("s@cret".into()),
                    db: 0,
                    tls: false,
                },
            }
        );
        assert_eq!(node("::1", 7002).to_string(), "[::1]:7002");
    }

    #[test]
    fn a_sentinel_url_names_its_master_and_database() {
        let target = RedisTarget::parse(
            "redis+sentinel://app:pw@127.0.0.1:26379,127.0.0.1:26380/mymaster/3",
        )
        .unwrap();
        assert_eq!(
            target,
            RedisTarget::Sentinel {
                sentinels: vec![node("127.0.0.1", 26379), node("127.0.0.1", 26380)],
                master_name: "mymaster".into(),
                auth: NodeAuth {
                    username: Some("app".into()),
                    password: Some("pw".into()),
                    db: 3,
                    tls: false,
                },
            }
        );
        assert_eq!(target.kind(), "sentinel");
    }

    #[test]
    fn the_rediss_schemes_speak_tls_to_every_node_and_the_plain_ones_do_not() {
        for (url, kind, tls) in [
            ("redis://127.0.0.1:6379", "single", false),
            ("rediss://127.0.0.1:6380", "single", true),
            ("redis+cluster://127.0.0.1:7000", "cluster", false),
            (
                "rediss+cluster://:pw@127.0.0.1:7000,127.0.0.1:7001",
                "cluster",
                true,
            ),
            ("redis+sentinel://127.0.0.1:26379/m", "sentinel", false),
            ("rediss+sentinel://127.0.0.1:26379/m/2", "sentinel", true),
        ] {
            let target = RedisTarget::parse(url).unwrap();
            assert_eq!((target.kind(), target.tls()), (kind, tls), "{url}");
        }
        let RedisTarget::Sentinel { auth, .. } =
            RedisTarget::parse("rediss+sentinel://u:pw@127.0.0.1:26379/m").unwrap()
        else {
            panic!("a Sentinel URL");
        };
        let sentinel = auth.sentinel();
        assert_eq!((sentinel.password, sentinel.tls), (None, true));
        let tls_addr = auth.connection_info(&node("10.0.0.1", 6380)).addr;
        assert!(
            matches!(tls_addr, redis::ConnectionAddr::TcpTls { ref host, port: 6380, insecure: false, .. } if host == "10.0.0.1"),
            "{tls_addr:?}"
        );
    }

    #[test]
    fn malformed_urls_are_refused_with_the_reason() {
        for (url, reason) in [
            ("redis+sentinel://127.0.0.1:26379", "/<master name>"),
            ("redis+sentinel://127.0.0.1:26379/", "master name is empty"),
            ("redis+sentinel://127.0.0.1:26379/m/x", "not a number"),
            ("redis+cluster://127.0.0.1:7000/0", "no database number"),
            (
                "redis+cluster://127.0.0.1:7000,,127.0.0.1:7001",
                "empty node",
            ),
            ("redis+cluster://127.0.0.1:70000", "not a port number"),
            ("redis+cluster://:7000", "no host"),
            ("redis://a:1,b:2", "redis+cluster://"),
            ("http://127.0.0.1:6379", "must start with"),
            ("rediss://127.0.0.1:6380/#insecure", "MCPGATE_REDIS_CA_FILE"),
            ("rediss+cluster://127.0.0.1:7000/0", "no database number"),
        ] {
            let error = RedisTarget::parse(url).unwrap_err().to_string();
            assert!(error.contains(reason), "{url}: {error}");
        }
    }
}
