//! `corral check`: validate a configuration completely and print the
//! effective settings, without serving.

use std::fmt::Write as _;
use std::path::PathBuf;

use corral::audit::audit_component;
use corral::config::Config;
use corral::registry::Registry;
use corral::server::check_auth;

use super::overrides::ServerOverrides;

/// Arguments of `corral check`.
#[derive(Debug, clap::Args)]
pub(super) struct CheckArgs {
    /// The configuration file.
    #[arg(long, short, default_value = "corral.toml", env = "CORRAL_CONFIG")]
    config: PathBuf,
    #[command(flatten)]
    overrides: ServerOverrides,
}

impl CheckArgs {
    /// Loads the config, compiles and links every component, and prints
    /// what a `serve` would run with.
    pub(super) fn execute(self) -> anyhow::Result<()> {
        let mut config = Config::load(&self.config)?;
        self.overrides.apply(&mut config.server)?;
        let sandbox = super::sandbox(&config, 1)?;
        let mut registry = Registry::load(&config, &sandbox)?;
        // What the components serve is listed by calling them, as `serve`
        // does at start.
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(registry.load_served())?;
        // Credentials load as `serve` would load them (tokens file, tokens
        // variable, JWKS, HS256 secret): a broken one fails here.
        let tools: Vec<&str> = registry.tools().iter().map(|t| t.name.as_str()).collect();
        let auth_warnings = check_auth(&config.server.http, &tools)
            .map_err(|e| anyhow::anyhow!("cannot load bearer tokens: {e}"))?;
        print!("{}", render(&config, &registry));
        for warning in auth_warnings {
            eprintln!("warning: {warning}");
        }
        if let Some(shortfall) = corral::budget::raise_descriptor_limit()
            .and_then(|limit| config.descriptor_needs().shortfall(limit))
        {
            eprintln!("warning: {shortfall}");
        }
        // What a reviewer should look at, as `corral audit` says it (the
        // components are compiled already: this reads them again only).
        for component in &config.components {
            for warning in audit_component(component, &sandbox).warnings {
                eprintln!("warning: component {}: {warning}", component.name);
            }
        }
        Ok(())
    }
}

fn render(config: &Config, registry: &Registry) -> String {
    let size = |b: u64| bytesize::ByteSize(b).display().iec().to_string();
    let s = &config.server;
    let mut out = String::new();
    let _ = writeln!(out, "config {}: valid", config.source.display());
    let _ = writeln!(out, "[server]");
    let _ = writeln!(out, "  name = {:?}", s.name);
    let _ = writeln!(out, "  max_concurrent_calls = {}", s.max_concurrent_calls);
    let _ = writeln!(
        out,
        "  queue_timeout = \"{}\"",
        humantime::format_duration(s.queue_timeout)
    );
    let _ = writeln!(out, "  max_result_size = \"{}\"", size(s.max_result_size));
    let cache = s
        .cache_dir
        .as_ref()
        .map_or("off".to_owned(), |d| d.display().to_string());
    let _ = writeln!(out, "  cache_dir = {cache:?}");
    let _ = writeln!(out, "  cache_max_size = \"{}\"", size(s.cache_max_size));
    let _ = writeln!(
        out,
        "  shutdown_timeout = \"{}\"",
        humantime::format_duration(s.shutdown_timeout)
    );
    let _ = writeln!(
        out,
        "[server.pool] (per call)\n  core_instances = {}\n  memories = {}\n  tables = {}",
        s.pool.core_instances, s.pool.memories, s.pool.tables
    );
    let h = &s.http;
    let listen = h
        .listen
        .map_or("none (stdio)".to_owned(), |a| a.to_string());
    let _ = writeln!(out, "[server.http]");
    let _ = writeln!(out, "  listen = {listen}");
    if let Some(url) = &h.public_url {
        let _ = writeln!(out, "  public_url = {:?}", url.as_str());
    }
    let _ = writeln!(out, "  allowed_hosts = loopback + {:?}", h.allowed_hosts);
    let _ = writeln!(out, "  allowed_origins = {:?}", h.allowed_origins);
    let _ = writeln!(out, "  max_body_size = \"{}\"", size(h.max_body_size));
    let _ = writeln!(
        out,
        "  max_concurrent_requests = {}",
        h.max_concurrent_requests
    );
    let _ = writeln!(
        out,
        "  request_timeout = \"{}\"",
        humantime::format_duration(h.request_timeout)
    );
    let _ = writeln!(out, "  max_connections = {}", h.max_connections);
    let _ = writeln!(
        out,
        "  header_read_timeout = \"{}\"",
        humantime::format_duration(h.header_read_timeout)
    );
    let _ = writeln!(
        out,
        "  idle_timeout = \"{}\"",
        humantime::format_duration(h.idle_timeout)
    );
    let _ = writeln!(
        out,
        "  max_requests_per_connection = {}",
        h.max_requests_per_connection
    );
    let _ = writeln!(
        out,
        "  max_body_bytes_in_flight = \"{}\"",
        size(h.max_body_bytes_in_flight)
    );
    let _ = writeln!(out, "  max_sessions = {}", h.max_sessions);
    let _ = writeln!(
        out,
        "  session_idle_timeout = \"{}\"",
        humantime::format_duration(h.session_idle_timeout)
    );
    let _ = writeln!(out, "  allow_unauthenticated = {}", h.allow_unauthenticated);
    let _ = writeln!(out, "[server.auth]");
    let _ = writeln!(out, "  tokens_file = {:?}", h.tokens_file);
    let _ = writeln!(out, "  tokens_env = {:?}", h.tokens_env);
    if let Some(jwt) = &h.jwt {
        let audience = h
            .jwt_audience(h.listen.unwrap_or_else(|| ([127, 0, 0, 1], 0).into()))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  jwt = {{ issuer = {:?}, audience = {audience:?}, hs256_secret_env = {:?}, jwks_file = {:?} }}",
            jwt.issuer, jwt.hs256_secret_env, jwt.jwks_file
        );
    }
    for c in &config.components {
        let _ = writeln!(out, "[components.{}]", c.name);
        let _ = writeln!(out, "  path = {:?}", c.path.display().to_string());
        let _ = writeln!(
            out,
            "  limits = {{ memory = \"{}\", fuel = {}, timeout = \"{}\", host_memory = \"{}\", \
             handles = {}, descriptors = {} }}",
            size(c.limits.memory),
            c.limits.fuel,
            humantime::format_duration(c.limits.timeout),
            size(c.limits.host_memory),
            c.limits.handles,
            c.limits.descriptors,
        );
        for line in c.grants.describe() {
            let _ = writeln!(out, "  grant: {line}");
        }
        let tools: Vec<&str> = registry
            .tools()
            .iter()
            .filter(|t| t.program.name() == c.name)
            .map(|t| t.name.as_str())
            .collect();
        let _ = writeln!(out, "  tools = {tools:?}");
    }
    let catalog = registry.catalog();
    let (resources, templates, prompts) = (
        catalog.resources().count(),
        catalog.templates().count(),
        catalog.prompts().count(),
    );
    if resources + templates + prompts > 0 {
        let _ = writeln!(
            out,
            "served: {resources} resources, {templates} resource templates, {prompts} prompts"
        );
    }
    out
}
