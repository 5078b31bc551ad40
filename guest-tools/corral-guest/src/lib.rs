//! Guest half of Corral's self-describing components.
//!
//! A component built by `cargo build --target wasm32-wasip2` carries its WIT
//! types but not the WIT doc comments, and those comments are the tool
//! descriptions a model reads. The guest's build script encodes the docs with
//! `corral_docs_build::embed_package_docs("wit")`; [`package_docs!`] then
//! stores the encoded bytes in a `package-docs` custom section, the section
//! name and format `wit-parser` defines. The linker and the component encoder
//! keep custom sections, so the section ends up in the component's core
//! module, where the Corral host looks for it.
//!
//! This crate has no dependencies and no code at run time: it is one macro.
#![no_std]

/// Embeds the encoded WIT doc comments written by
/// `corral_docs_build::embed_package_docs` in a `package-docs` custom section.
///
/// Invoke it exactly once per component, at the top level of the crate
/// (usually in `lib.rs`): custom sections with the same name are concatenated
/// by the linker, so two invocations would corrupt the section.
///
/// ```ignore
/// corral_guest::package_docs!();
/// ```
#[macro_export]
macro_rules! package_docs {
    () => {
        #[doc(hidden)]
        #[unsafe(link_section = "package-docs")]
        #[used]
        static __CORRAL_PACKAGE_DOCS: [u8; include_bytes!(concat!(
            env!("OUT_DIR"),
            "/package-docs.bin"
        ))
        .len()] = *include_bytes!(concat!(env!("OUT_DIR"), "/package-docs.bin"));
    };
}
