//! Prints the generated code of a `.bl` file: `cargo run -p bilevel-dsl --example dump -- file.bl`.
fn main() {
    let path = std::env::args().nth(1).expect("usage: dump FILE.bl");
    let source = std::fs::read_to_string(&path).expect("readable file");
    match bilevel_dsl::compile(&source) {
        Ok(model) => println!("{}", bilevel_dsl::codegen::generate(&model, &quote::quote!(::bilevel))),
        Err(diags) => {
            for d in diags {
                eprintln!("{}", d.render(&path, &source));
            }
            std::process::exit(1);
        }
    }
}
