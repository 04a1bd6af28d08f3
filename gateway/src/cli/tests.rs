use clap::Parser as _;

use super::{Cli, Command};

fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("prep-gateway").chain(args.iter().copied()))
}

#[test]
fn serve_takes_a_domain_or_platform_as_its_subgraph() {
    for name in ["platform", "workforce", "compliance", "tenant"] {
        let cli = parse(&["serve", "--subgraph", name]).unwrap_or_else(|e| panic!("{name}: {e}"));
        let Command::Serve(args) = cli.command else {
            panic!("not serve");
        };
        assert_eq!(args.subgraph.as_deref(), Some(name));
    }
    let text = parse(&["serve", "--subgraph", "payroll"])
        .expect_err("not a domain")
        .to_string();
    for named in ["payroll", "workforce", "platform", "alerts"] {
        assert!(text.contains(named), "{named} in {text}");
    }
    // `--dev` seeds a sandbox: never in a subgraph's process
    assert!(parse(&["serve", "--dev", "--subgraph", "alerts"]).is_err());
}

#[test]
fn sdl_prints_the_public_api_or_one_subgraph() {
    let cli = parse(&["sdl"]).expect("parses");
    assert!(matches!(cli.command, Command::Sdl { subgraph: None }));
    let cli = parse(&["sdl", "--subgraph", "alerts"]).expect("parses");
    assert!(matches!(cli.command, Command::Sdl { subgraph: Some(ref s) } if s == "alerts"));
    assert!(parse(&["sdl", "--subgraph", "everything"]).is_err());
}
