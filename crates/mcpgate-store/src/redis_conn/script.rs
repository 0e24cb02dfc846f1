//! Lua scripts, one atomic round trip each, on any topology.
//!
//! `EVALSHA` first; a node that has not cached the script (a restarted node, a replica
//! just promoted: script caches are not replicated) answers `NOSCRIPT`, and the call is
//! sent once more as `EVAL`, which caches it there. The redis crate's own fallback
//! sends `SCRIPT LOAD`, which a cluster connection sends to every node, so one dead
//! node would fail calls whose keys live elsewhere.

use redis::{FromRedisValue, RedisResult, ToRedisArgs};

use super::RedisConnection;

/// A Lua script and its SHA-1.
#[derive(Debug, Clone)]
pub struct AtomicScript {
    source: &'static str,
    hash: String,
}

/// One call of a script: its keys (`KEYS`) and arguments (`ARGV`).
#[derive(Debug)]
pub struct ScriptCall<'a> {
    script: &'a AtomicScript,
    keys: Vec<Vec<u8>>,
    args: Vec<Vec<u8>>,
}

impl AtomicScript {
    /// The script `source`.
    pub fn new(source: &'static str) -> Self {
        Self {
            source,
            hash: redis::Script::new(source).get_hash().to_owned(),
        }
    }

    /// A call with no keys or arguments yet.
    pub fn call(&self) -> ScriptCall<'_> {
        ScriptCall {
            script: self,
            keys: Vec::new(),
            args: Vec::new(),
        }
    }
}

impl ScriptCall<'_> {
    /// Adds a key; on a cluster every key of one call must hash to one slot.
    pub fn key(&mut self, key: impl ToRedisArgs) -> &mut Self {
        key.write_redis_args(&mut self.keys);
        self
    }

    /// Adds an argument.
    pub fn arg(&mut self, arg: impl ToRedisArgs) -> &mut Self {
        arg.write_redis_args(&mut self.args);
        self
    }

    /// The keys given so far, in order.
    pub fn keys(&self) -> impl Iterator<Item = &[u8]> {
        self.keys.iter().map(Vec::as_slice)
    }

    /// Runs the script: one round trip, two on a node that has not seen it.
    pub async fn invoke<T: FromRedisValue>(
        &self,
        connection: &mut RedisConnection,
    ) -> RedisResult<T> {
        match self
            .command("EVALSHA", &self.script.hash)
            .query_async(connection)
            .await
        {
            Err(error) if error.kind() == redis::ErrorKind::NoScriptError => {
                self.command("EVAL", self.script.source)
                    .query_async(connection)
                    .await
            }
            answer => answer,
        }
    }

    fn command(&self, name: &str, script: &str) -> redis::Cmd {
        // Sized once: grown argument by argument, the command's two buffers were
        // reallocated six times a reservation (DHAT, docs/benchmarks.md).
        let count = 3 + self.keys.len() + self.args.len();
        let bytes = name.len()
            + script.len()
            + 20
            + self
                .keys
                .iter()
                .chain(&self.args)
                .map(Vec::len)
                .sum::<usize>();
        let mut command = redis::Cmd::with_capacity(count, bytes);
        command
            .arg(name)
            .arg(script)
            .arg(self.keys.len())
            .arg(&self.keys)
            .arg(&self.args);
        command
    }
}
