//! `vessel network create|ls|inspect|rm`: user networks.

use std::net::Ipv4Addr;

use clap::{Args, Subcommand};

use super::output::outln;
use crate::error::Result;
use crate::network::manage;

/// Arguments of `vessel network`.
#[derive(Debug, Args)]
pub struct NetworkArgs {
    #[command(subcommand)]
    command: NetworkCommand,
}

#[derive(Debug, Subcommand)]
enum NetworkCommand {
    /// Create a network: a bridge of its own; containers on it (`run --network NAME`)
    /// reach each other by name, and no container of another network.
    Create {
        /// Its subnet [default: a free /24 of 10.210.0.0/16].
        #[arg(long, value_name = "CIDR")]
        subnet: Option<ipnet::Ipv4Net>,
        /// The bridge's address, the containers' default route [default: the subnet's
        /// first address].
        #[arg(long, value_name = "IP")]
        gateway: Option<Ipv4Addr>,
        /// Its name.
        name: String,
    },
    /// List networks.
    Ls,
    /// Print a network, with its containers, as JSON.
    Inspect {
        /// The network's name.
        name: String,
    },
    /// Remove networks (refused while a container is on one).
    Rm {
        /// The networks' names.
        #[arg(required = true)]
        names: Vec<String>,
    },
}

/// Runs `vessel network …`.
pub fn network(args: NetworkArgs) -> Result<i32> {
    match args.command {
        NetworkCommand::Create {
            subnet,
            gateway,
            name,
        } => {
            manage::create(&name, subnet, gateway)?;
            outln!("{name}");
        }
        NetworkCommand::Ls => {
            outln!(
                "{:<20}  {:<10}  {:<18}  {:<15}  CONTAINERS",
                "NAME",
                "BRIDGE",
                "SUBNET",
                "GATEWAY"
            );
            for n in manage::list()? {
                outln!(
                    "{:<20}  {:<10}  {:<18}  {:<15}  {}",
                    n.network.name,
                    n.network.bridge,
                    n.network.subnet.to_string(),
                    n.network.gateway.to_string(),
                    n.containers.len()
                );
            }
        }
        NetworkCommand::Inspect { name } => {
            let inspected = manage::inspect(&name)?;
            let json = serde_json::to_string_pretty(&inspected).expect("serializable");
            outln!("{json}");
        }
        NetworkCommand::Rm { names } => {
            for name in names {
                manage::remove(&name)?;
                outln!("{name}");
            }
        }
    }
    Ok(0)
}
