//! Whole-system tests: the real `corral` binary, real guest components
//! built from `guest-tools/`, and a real MCP client (rmcp's) on stdio.
//!
//! One test binary (modules per area) keeps link time low.

mod support;

mod asking;
mod audit;
mod authoring;
mod calls;
mod capabilities;
mod clients;
mod containment;
mod faults;
mod front_door;
mod http;
mod languages;
mod load;
mod mcp_package;
mod protocol;
mod startup;
mod tasks;
mod tools_list;
mod types;
