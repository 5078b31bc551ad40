fn main() {
    corral_docs_build::embed_package_docs("wit");
}
