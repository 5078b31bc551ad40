//! `corral new`: scaffold a tool project in a new folder, in Rust, Python or
//! JavaScript, with a documented WIT world, Corral's `corral:mcp` package in
//! `wit/deps/`, the build command of the language and a config to serve it.
//!
//! The templates live in `runtime/templates/` and are compiled into the
//! binary, so the command works anywhere, offline.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::ValueEnum;

/// Arguments of `corral new`.
#[derive(Debug, clap::Args)]
pub(super) struct NewArgs {
    /// The tool's name: lowercase letters, digits and dashes, starting with
    /// a letter (it names the WIT world, the package and the component).
    name: String,
    /// The language of the tool.
    #[arg(long, value_enum, default_value_t = Lang::Rust)]
    lang: Lang,
    /// The folder to create (default: the name, in the current directory).
    #[arg(long)]
    dir: Option<PathBuf>,
}

/// The languages `corral new` scaffolds.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Lang {
    /// Rust with wit-bindgen, built by `cargo build --target wasm32-wasip2`.
    Rust,
    /// Python, built by componentize-py.
    Python,
    /// JavaScript, built by jco and ComponentizeJS.
    Js,
}

/// Corral's WIT package, written to `wit/deps/corral-mcp/`.
const CORRAL_MCP: &[(&str, &str)] = &[
    ("types.wit", include_str!("../../../wit/types.wit")),
    ("log.wit", include_str!("../../../wit/log.wit")),
    ("progress.wit", include_str!("../../../wit/progress.wit")),
    ("client.wit", include_str!("../../../wit/client.wit")),
    ("task.wit", include_str!("../../../wit/task.wit")),
    ("resources.wit", include_str!("../../../wit/resources.wit")),
    ("prompts.wit", include_str!("../../../wit/prompts.wit")),
    (
        "completion.wit",
        include_str!("../../../wit/completion.wit"),
    ),
    ("worlds.wit", include_str!("../../../wit/worlds.wit")),
];

const WORLD: &str = include_str!("../../templates/common/world.wit");
const CONFIG: &str = include_str!("../../templates/common/corral.toml");

/// The files of one language: path in the project, template text.
fn files(lang: Lang) -> &'static [(&'static str, &'static str)] {
    match lang {
        Lang::Rust => &[
            (
                "Cargo.toml",
                include_str!("../../templates/rust/Cargo.toml"),
            ),
            (
                "src/lib.rs",
                include_str!("../../templates/rust/src/lib.rs"),
            ),
            ("README.md", include_str!("../../templates/rust/README.md")),
            (".gitignore", "/target\n"),
        ],
        Lang::Python => &[
            ("app.py", include_str!("../../templates/python/app.py")),
            (
                "requirements.txt",
                include_str!("../../templates/python/requirements.txt"),
            ),
            (
                "README.md",
                include_str!("../../templates/python/README.md"),
            ),
            (".gitignore", "/.venv\n/*.wasm\n__pycache__/\n"),
        ],
        Lang::Js => &[
            ("app.js", include_str!("../../templates/js/app.js")),
            (
                "package.json",
                include_str!("../../templates/js/package.json"),
            ),
            ("README.md", include_str!("../../templates/js/README.md")),
            (".gitignore", "/node_modules\n/*.wasm\n"),
        ],
    }
}

impl NewArgs {
    /// Writes the project and says how to build and serve it.
    pub(super) fn execute(self) -> anyhow::Result<()> {
        check_name(&self.name)?;
        let dir = self
            .dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(&self.name));
        if dir.exists() {
            bail!(
                "{} already exists: corral new writes a new folder (give another name or --dir)",
                dir.display()
            );
        }
        let snake = self.name.replace('-', "_");
        let wasm = match self.lang {
            Lang::Rust => format!("target/wasm32-wasip2/release/{snake}.wasm"),
            Lang::Python | Lang::Js => format!("{snake}.wasm"),
        };
        let fill = |text: &str| {
            text.replace("{{name}}", &self.name)
                .replace("{{snake}}", &snake)
                .replace("{{wasm}}", &wasm)
        };
        let mut written = vec![("wit/world.wit".to_owned(), fill(WORLD))];
        written.push(("corral.toml".to_owned(), fill(CONFIG)));
        written.extend(
            files(self.lang)
                .iter()
                .map(|(path, text)| ((*path).to_owned(), fill(text))),
        );
        written.extend(
            CORRAL_MCP
                .iter()
                .map(|(file, text)| (format!("wit/deps/corral-mcp/{file}"), (*text).to_owned())),
        );
        for (path, text) in &written {
            write(&dir.join(path), text)?;
        }
        let build = match self.lang {
            Lang::Rust => "rustup target add wasm32-wasip2   # once\n  cargo build --release --target wasm32-wasip2".to_owned(),
            Lang::Python => format!(
                "python3 -m venv .venv && .venv/bin/pip install -r requirements.txt   # once\n  \
                 .venv/bin/componentize-py -d wit -w {name} componentize app -o {wasm}",
                name = self.name
            ),
            Lang::Js => "npm install   # once\n  npm run build".to_owned(),
        };
        let lang = match self.lang {
            Lang::Rust => "Rust",
            Lang::Python => "Python",
            Lang::Js => "JavaScript",
        };
        // A closed stdout (`| head`) is no failure: the project is written.
        let _ = writeln!(
            std::io::stdout(),
            "created {dir} ({lang}): the tool `count_words`, described in wit/world.wit\n\n\
             next:\n  cd {dir}\n  {build}\n  corral check -c corral.toml\n  corral serve -c corral.toml",
            dir = dir.display(),
        );
        Ok(())
    }
}

/// A WIT identifier in kebab case, usable as a package, world and crate name.
fn check_name(name: &str) -> anyhow::Result<()> {
    let valid = name.split('-').all(|part| {
        part.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && part
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    });
    if !valid {
        bail!(
            "{name:?} cannot name a tool project: use lowercase letters, digits and single \
             dashes, each part starting with a letter (e.g. word-count)"
        );
    }
    Ok(())
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_tool_gets_every_file_of_the_package() {
        let wit = Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit");
        let mut files: Vec<String> = std::fs::read_dir(wit)
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".wit"))
            .collect();
        files.sort();
        let mut written: Vec<String> = CORRAL_MCP.iter().map(|(n, _)| (*n).to_owned()).collect();
        written.sort();
        assert_eq!(files, written);
    }

    #[test]
    fn names_are_wit_identifiers() {
        assert!(check_name("word-count").is_ok());
        assert!(check_name("tool2").is_ok());
        for bad in ["", "Word", "2tools", "a--b", "-a", "a-", "a_b", "a-2b"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
