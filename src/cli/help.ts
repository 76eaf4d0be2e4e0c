/**
 * Help texts. Each verb's usage line is the grammar the parser enforces; the examples are the
 * seeds' own commands where there is one.
 */
import { BINARY } from './args.js';

export const RESOURCE_LIST = [
  'bgpConfiguration',
  'bgpFilter',
  'bgpPeer',
  'caliconodestatus',
  'clusterInformation',
  'felixConfiguration',
  'globalNetworkPolicy',
  'hostEndpoint',
  'ipamConfiguration',
  'ipPool',
  'ipReservation',
  'networkPolicy',
  'node',
  'workloadEndpoint',
]
  .map((k) => `    - ${k}\n`)
  .join('');

const DATASTORE_INTRO = `Set the datastore with -c/--config (a CalicoAPIConfig file, default /etc/tortie/tortie.cfg)
or the environment: DATASTORE_TYPE=sqlite|etcdv3, SQLITE_PATH (default /var/lib/tortie/tortie.db),
ETCD_ENDPOINTS (each also with a CALICO_ prefix).

`;

const CONFIG_OPT = `  -c --config=<CONFIG>         Path to the file containing connection configuration in
                               YAML or JSON format. [default: /etc/tortie/tortie.cfg]
     --context=<context>       Accepted for calicoctl compatibility; ignored.
     --allow-version-mismatch  Allow client and cluster versions mismatch.`;

const FILE_OPTS = `  -f --filename=<FILENAME>     File with the resource(s), "-" for stdin, or a directory
                               (every .yaml, .yml and .json file in it).
  -R --recursive               With a directory, also read its subdirectories.
     --skip-empty              Do not fail when a file or directory holds no resources.`;

const TYPES = `Resource types (case-insensitive, singular or plural, short names allowed):
${RESOURCE_LIST}`;

export const TOP_HELP = `Usage:
  ${BINARY} [options] <command> [<args>...]

    create       Create a resource by file, directory or stdin.
    replace      Replace a resource by file, directory or stdin.
    apply        Apply a resource by file, directory or stdin. This creates a resource
                 if it does not exist, and replaces a resource if it exists.
    patch        Patch a preexisting resource in place.
    delete       Delete a resource identified by file, directory, stdin or resource type and
                 name.
    get          Get a resource identified by file, directory, stdin or resource type and
                 name.
    label        Add or update labels of resources.
    ipam         IP address management.
    node         tortie node management: run the agent, view its status.
    bgp          Run tortie's BGP speaker on its own, and ask it for status and routes.
    lab          A whole cluster in network namespaces: hosts, routers, VMs, pods.
    version      Display the version of this binary.

Options:
  -h --help                    Show this screen.
  -l --log-level=<level>       Set the log level (one of panic, fatal, error,
                               warn, info, debug) [default: panic]
     --context=<context>       Accepted for calicoctl compatibility; ignored.
     --allow-version-mismatch  Allow client and cluster versions mismatch.

Description:
  tortie manages BGP-routed container networking. It reads and writes the same
  projectcalico.org/v3 resources as calicoctl, with the same commands and output.

  See '${BINARY} <command> --help' to read about a specific subcommand.
`;

const writeVerb = (verb: string, past: string, extra: string, what: string, ex: string) => `${DATASTORE_INTRO}Usage:
  ${BINARY} ${verb} --filename=<FILENAME> [--recursive] [--skip-empty]${extra} [--config=<CONFIG>] [--namespace=<NS>] [--context=<context>] [--allow-version-mismatch]

Examples:
${ex}

Options:
  -h --help                    Show this screen.
${FILE_OPTS}
${verb === 'create' ? '     --skip-exists             Do not fail when a resource already exists (it is left unchanged).\n' : ''}  -n --namespace=<NS>          Namespace of the resource (NetworkPolicy and WorkloadEndpoint).
                               Uses the default namespace if not specified.
${CONFIG_OPT}

Description:
  ${what}
  Resources are read in full before any is written: a file with an error changes nothing.
  Each resource is then ${past} in order; a resource that fails does not stop the others.

${TYPES}`;

export const CREATE_HELP = writeVerb(
  'create',
  'created',
  ' [--skip-exists]',
  'The create command creates resources that do not exist yet.',
  `  # Create the route reflector peerings of a multi-document file.
  ${BINARY} create -f rr.yaml

  # Create a BGPConfiguration from stdin.
  cat bgp.yaml | ${BINARY} create -f -`,
);

export const APPLY_HELP = writeVerb(
  'apply',
  'applied',
  '',
  'The apply command creates resources, or replaces them when they exist.',
  `  # Apply an edited IP pool exported with 'get -o yaml'.
  ${BINARY} apply -f ippool.yaml

  # Apply a BGPPeer from stdin.
  ${BINARY} apply -f - <<EOF
  apiVersion: projectcalico.org/v3
  kind: BGPPeer
  metadata:
    name: peer-with-route-reflectors
  spec:
    nodeSelector: all()
    peerSelector: route-reflector == 'true'
  EOF`,
);

export const REPLACE_HELP = writeVerb(
  'replace',
  'replaced',
  '',
  'The replace command replaces resources that exist. When the input carries a\n  metadata.resourceVersion it must be the latest one, so concurrent edits are not lost.',
  `  # Replace a node with an edited copy.
  ${BINARY} replace -f node.yaml`,
);

export const DELETE_HELP = `${DATASTORE_INTRO}Usage:
  ${BINARY} delete ( (<KIND> <NAME>...) |
                --filename=<FILENAME> [--recursive] [--skip-empty] )
                [--skip-not-exists] [--config=<CONFIG>] [--namespace=<NS>] [--context=<context>] [--allow-version-mismatch]

Examples:
  # Delete the default BGP configuration.
  ${BINARY} delete bgpconfig default

  # Delete the resources named in a file.
  ${BINARY} delete -f bgp_peer.yaml

Options:
  -h --help                    Show this screen.
  -s --skip-not-exists         Do not fail when a resource does not exist.
${FILE_OPTS}
  -n --namespace=<NS>          Namespace of the resource (NetworkPolicy and WorkloadEndpoint).
${CONFIG_OPT}

Description:
  The delete command removes resources by file, stdin, or by type and name.

${TYPES}`;

export const GET_HELP = `${DATASTORE_INTRO}Usage:
  ${BINARY} get ( (<KIND> [<NAME>...]) |
                --filename=<FILENAME> [--recursive] [--skip-empty] )
                [--output=<OUTPUT>] [--config=<CONFIG>] [--namespace=<NS>] [--all-namespaces] [--export] [--context=<context>] [--allow-version-mismatch]

Examples:
  # List IP pools with their modes.
  ${BINARY} get ippool -o wide

  # Export a node for editing, without cluster-specific metadata.
  ${BINARY} get node k8s-master --export -o yaml > node.yaml

  # Show chosen columns.
  ${BINARY} get bgppeer -o custom-columns=NAME,PEERIP

Options:
  -h --help                    Show this screen.
${FILE_OPTS}
  -o --output=<OUTPUT FORMAT>  Output format: ps, wide, yaml, json,
                               custom-columns=COL1,COL2,... [Default: ps]
  -n --namespace=<NS>          Namespace of the resource (NetworkPolicy and WorkloadEndpoint).
  -A --all-namespaces          List the requested object(s) across all namespaces.
     --export                  With names given: strip cluster-specific metadata
                               (uid, resourceVersion, creationTimestamp, namespace).
${CONFIG_OPT}

Description:
  The get command shows resources. Without names it lists every resource of the
  type. YAML and JSON output can be applied again unchanged.

${TYPES}`;

export const PATCH_HELP = `${DATASTORE_INTRO}Usage:
  ${BINARY} patch <KIND> <NAME> --patch=<PATCH> [--type=<TYPE>] [--config=<CONFIG>] [--namespace=<NS>] [--context=<context>] [--allow-version-mismatch]

Examples:
  # Make a node a route reflector.
  ${BINARY} patch node node-0 --patch '{"spec":{"bgp": {"routeReflectorClusterID": "224.0.0.1"}}}'

Options:
  -h --help                    Show this screen.
  -p --patch=<PATCH>           The patch, as JSON.
  -t --type=<TYPE>             strategic (default), merge or json (all applied as a merge patch).
  -n --namespace=<NS>          Namespace of the resource (NetworkPolicy and WorkloadEndpoint).
${CONFIG_OPT}

Description:
  The patch command changes part of a resource: objects are merged, lists and
  values replaced, null removes a field. The result is validated like any write.

${TYPES}`;

export const LABEL_HELP = `${DATASTORE_INTRO}Usage:
  ${BINARY} label (<KIND> <NAME>
                ( <key>=<value> [--overwrite] |
                  <key> --remove )
                [--config=<CONFIG>] [--namespace=<NS>] [--context=<context>]) [--allow-version-mismatch]

Examples:
  # Mark a node as a route reflector.
  ${BINARY} label nodes k8s-node2 route-reflector=true

  # Change an existing label.
  ${BINARY} label nodes node1 cluster=frontend --overwrite

  # Remove a label.
  ${BINARY} label nodes node1 cluster --remove

Options:
  -h --help                    Show this screen.
  -n --namespace=<NS>          Namespace of the resource (NetworkPolicy and WorkloadEndpoint).
     --overwrite               Replace the value when the key is already present.
     --remove                  Remove the key (it must exist).
${CONFIG_OPT}

Description:
  The label command adds, updates or removes one label of a resource.

${TYPES}`;

export const VERSION_HELP = `Usage:
  ${BINARY} version [--config=<CONFIG>] [--poll=<POLL>] [--allow-version-mismatch] [--client]

Examples:
  # Client and cluster versions.
  ${BINARY} version

Options:
  -h --help                    Show this screen.
  -c --config=<CONFIG>         Path to the file containing connection configuration in
                               YAML or JSON format. [default: /etc/tortie/tortie.cfg]
     --poll=<POLL>             Poll for changes to the cluster information at this interval
                               (e.g. 1s, 10m). 0 (the default) disables polling.
     --allow-version-mismatch  Allow client and cluster versions mismatch.
     --client                  Display the client version only.

Description:
  Display the version of ${BINARY} and of the cluster it is connected to.
`;

export const IPAM_HELP = `Usage:
  ${BINARY} ipam <command> [<args>...]

    check            Check the integrity of the IPAM data structures.
    release          Release an assigned IP address.
    show             Show details of the IPAM configuration, of an assigned
                     IP address, or of overall IP usage.
    assign           Assign addresses to something that is not a pod (a VM,
                     a load balancer) under a handle.
    unassign         Release every address of a handle.
    configure        Configure IPAM.

Options:
  -h --help      Show this screen.

Description:
  IP address management commands.

  See '${BINARY} ipam <command> --help' to read about a specific subcommand.
`;

export const IPAM_SHOW_HELP = `${DATASTORE_INTRO}Usage:
  ${BINARY} ipam show [--ip=<IP> | --show-blocks | --show-borrowed | --show-configuration] [--config=<CONFIG>] [--allow-version-mismatch]

Options:
  -h --help                    Show this screen.
     --ip=<IP>                 Report whether this specific IP address is in use.
     --show-blocks             Show detailed information for IP blocks as well as pools.
     --show-borrowed           Show detailed information for "borrowed" IP addresses.
     --show-configuration      Show current IPAM configuration.
  -c --config=<CONFIG>         Path to the file containing connection configuration.
     --allow-version-mismatch  Allow client and cluster versions mismatch.

Description:
  The ipam show command prints information about a given IP address, or about
  overall IP usage.
`;

export const IPAM_CHECK_HELP = `${DATASTORE_INTRO}Usage:
  ${BINARY} ipam check [--config=<CONFIG>] [--show-all-ips] [--show-problem-ips] [-o <FILE>] [--allow-version-mismatch]

Options:
  -h --help                    Show this screen.
  -o --output=<FILE>           Path to output report file.
     --show-all-ips            Print all IPs that are checked.
     --show-problem-ips        Print all IPs that are leaked or not allocated properly.
  -c --config=<CONFIG>         Path to the file containing connection configuration.
     --allow-version-mismatch  Allow client and cluster versions mismatch.

Description:
  The ipam check command checks the IPAM data structures against what uses the
  addresses: workload endpoints, node tunnel addresses and addresses assigned
  with '${BINARY} ipam assign'.
`;

export const IPAM_RELEASE_HELP = `${DATASTORE_INTRO}Usage:
  ${BINARY} ipam release [--ip=<IP>] [--from-report=<REPORT>]... [--config=<CONFIG>] [--force] [--allow-version-mismatch]

Options:
  -h --help                    Show this screen.
     --ip=<IP>                 IP address to release.
     --from-report=<REPORT>    Release all leaked addresses from the report. If several reports are
                               given, only leaked IPs common to all of them are released.
     --force                   Force release of leaked addresses.
  -c --config=<CONFIG>         Path to the file containing connection configuration.
     --allow-version-mismatch  Allow client and cluster versions mismatch.

Description:
  The ipam release command releases an IP address that was previously assigned
  to an endpoint. It does not remove the IP from endpoints that may be using it.
`;

export const IPAM_ASSIGN_HELP = `${DATASTORE_INTRO}Usage:
  ${BINARY} ipam assign --node=<NODE> --handle=<HANDLE> [--ip=<IP> | --count=<N>] [--ipv6] [--pool=<POOL>]... [--config=<CONFIG>] [--allow-version-mismatch]

Examples:
  # Two addresses for a VM on node host-1
  ${BINARY} ipam assign --node=host-1 --handle=vm-17 --count=2

Options:
  -h --help                    Show this screen.
     --node=<NODE>             The node whose blocks the addresses come from.
     --handle=<HANDLE>         The handle to record them under (release with 'ipam unassign').
     --ip=<IP>                 Assign this address.
     --count=<N>               How many addresses to assign [default: 1].
     --ipv6                    Assign IPv6 addresses (with --count).
     --pool=<POOL>             Only from this pool (name or CIDR); may be repeated.
  -c --config=<CONFIG>         Path to the file containing connection configuration.
     --allow-version-mismatch  Allow client and cluster versions mismatch.

Description:
  Assigns addresses as the CNI plugin does for a pod, for something that is not
  a pod. Each assigned address is printed on its own line. The addresses count
  as in use for 'ipam check'.
`;

export const IPAM_UNASSIGN_HELP = `${DATASTORE_INTRO}Usage:
  ${BINARY} ipam unassign --handle=<HANDLE> [--config=<CONFIG>] [--allow-version-mismatch]

Options:
  -h --help                    Show this screen.
     --handle=<HANDLE>         The handle whose addresses to release.
  -c --config=<CONFIG>         Path to the file containing connection configuration.
     --allow-version-mismatch  Allow client and cluster versions mismatch.

Description:
  Releases every address recorded under a handle, and the handle.
`;

export const IPAM_CONFIGURE_HELP = `${DATASTORE_INTRO}Usage:
  ${BINARY} ipam configure [--strictaffinity=<true/false>]
                           [--max-blocks-per-host=<number>]
                           [--kubevirt-ip-persistence=<Enabled|Disabled>]
                           [--config=<CONFIG>]
                           [--allow-version-mismatch]

Examples:
  # Never borrow addresses from other hosts' blocks.
  ${BINARY} ipam configure --strictaffinity=true

Options:
  -h --help                        Show this screen.
     --strictaffinity=<true/false>  Set StrictAffinity. When true, hosts never borrow
                                    addresses from blocks affine to other hosts.
     --max-blocks-per-host=<number> Maximum number of blocks affine to one host
                                    (needs StrictAffinity).
     --kubevirt-ip-persistence=<Enabled|Disabled>
                                    Whether KubeVirt VMs keep their addresses.
  -c --config=<CONFIG>              Path to the file containing connection configuration.
     --allow-version-mismatch       Allow client and cluster versions mismatch.

Description:
  Modify the IP address management configuration.
`;

export const NODE_HELP = `Usage:
  ${BINARY} node <command> [<args>...]

    run          Run the tortie agent on this host (in the foreground).
    status       View the current status of the tortie agent on this host.

Options:
  -h --help      Show this screen.

Description:
  Node specific commands for ${BINARY}.  These commands must be run directly on
  the host running the tortie agent.

  See '${BINARY} node <command> --help' to read about a specific subcommand.
`;

export const NODE_STATUS_HELP = `Usage:
  ${BINARY} node status [--run-dir=<DIR>] [--output=<OUTPUT>] [--allow-version-mismatch]

Examples:
  # BGP sessions of the agent on this host, as calicoctl shows them.
  sudo ${BINARY} node status

  # With prefix counts and last errors, or everything as JSON.
  sudo ${BINARY} node status -o wide
  sudo ${BINARY} node status -o json

Options:
  -h --help                    Show this screen.
     --run-dir=<DIR>           The agent's run directory, where it serves its status
                               socket (agent.sock) [default: /var/run/tortie].
  -o --output=<OUTPUT>         Output format: ps, wide or json [default: ps]. wide adds
                               the prefixes received and advertised and the last error.
     --allow-version-mismatch  Allow client and cluster versions mismatch.

Description:
  Check the status of the tortie agent on this host.  This includes whether it is
  running and the state of its BGP sessions (IPv4 and IPv6), as calicoctl shows
  them for calico-node and BIRD.  Must be run as root.
`;

export const NODE_RUN_HELP = `${DATASTORE_INTRO}Usage:
  ${BINARY} node run [--name=<NAME>] [--run-dir=<DIR>]
                  [--ip=<IP>] [--ip6=<IP6>] [--as=<AS_NUM>]
                  [--ip-autodetection-method=<IP_AUTODETECTION_METHOD>]
                  [--ip6-autodetection-method=<IP6_AUTODETECTION_METHOD>]
                  [--metrics-port=<PORT>] [--log-level=<LEVEL>]
                  [--secrets-dir=<DIR>] [--state-dir=<DIR>] [--no-dataplane]
                  [--config=<CONFIG>]

Examples:
  # Run the agent for this host as node-1, peering from 10.0.0.1.
  sudo ${BINARY} node run --name node-1 --ip 10.0.0.1

Options:
  -h --help                Show this screen.
     --name=<NAME>         The name of this node.  If this is not supplied it
                           defaults to the host name.
     --run-dir=<DIR>       Where the agent serves its status socket (agent.sock)
                           and keeps its state [default: /var/run/tortie].
     --ip=<IP>             The local IPv4 routing address of this node, 'autodetect'
                           or 'none' [default: autodetect].
     --ip6=<IP6>           The local IPv6 routing address of this node, 'autodetect'
                           or 'none' [default: none].
     --ip-autodetection-method=<IP_AUTODETECTION_METHOD>
                           How to detect the local IPv4 routing address: one of
                           > first-found
                           > can-reach=<IP OR DOMAINNAME>
                           > interface=<IFACE NAME REGEX LIST>
                           > skip-interface=<IFACE NAME REGEX LIST>
                           > cidr=<CIDR LIST>
                           [default: first-found]
     --ip6-autodetection-method=<IP6_AUTODETECTION_METHOD>
                           The same for the IPv6 address [default: first-found].
     --as=<AS_NUM>         The AS number of this node.  If omitted, the value on
                           the node resource, else the global AS number.
     --metrics-port=<PORT> Serve Prometheus metrics on 127.0.0.1:<PORT>/metrics;
                           0 disables them [default: 9091, or TORTIE_METRICS_PORT].
     --log-level=<LEVEL>   trace, debug, info, warning, error, fatal or panic
                           [default: info, or LOG_LEVEL].
     --secrets-dir=<DIR>   Where BGP passwords live, as <DIR>/<secret>/<key>
                           [default: /etc/tortie/secrets, or TORTIE_SECRETS_DIR].
     --state-dir=<DIR>     Where the agent writes 'nodename' and the pod 'mtu' for
                           the CNI plugin [default: /var/lib/tortie, or
                           TORTIE_STATE_DIR].
     --no-dataplane        Run BGP only: program no kernel routes.
  -c --config=<CONFIG>     Path to the file containing connection configuration
                           in YAML or JSON format. [default: /etc/tortie/tortie.cfg]

Description:
  Runs the tortie agent in the foreground: it peers over BGP as the node-to-node
  mesh and the BGPPeer resources say, and programs the routes it learns into the
  kernel.  Logs are JSON lines on stderr.  SIGTERM stops it gracefully.
`;

export const LAB_HELP = `Usage:
  ${BINARY} lab up <TOPOLOGY> [--name=<NAME>] [--dir=<DIR>] [--replace] [--timeout=<SECONDS>]
                 [--keep-on-error]
  ${BINARY} lab status [<NAME>] [--dir=<DIR>]
  ${BINARY} lab exec [--name=<NAME>] [--dir=<DIR>] <NODE> -- <COMMAND>...
  ${BINARY} lab ping [--name=<NAME>] [--dir=<DIR>] [--count=<N>] <FROM> <TO>
  ${BINARY} lab down [<NAME>] [--dir=<DIR>]

Examples:
  # Seed 000: three hosts, two route reflectors, a BIRD core switch and a VM behind it.
  sudo ${BINARY} lab up seed-000
  sudo ${BINARY} lab status
  sudo ${BINARY} lab ping vm1 web-1
  sudo ${BINARY} lab exec k8s-test-master-1 -- ip route
  sudo ${BINARY} lab down seed-000

  # FRR as the core switch, etcd as the datastore (tortie inside the lab finds it).
  sudo ${BINARY} lab up frr-core
  sudo ${BINARY} lab exec node-141 -- tortie get nodes

  # Your own topology (docs/lab.md), under another name, in a directory of your choice.
  sudo ${BINARY} lab up ./my-lab.yaml --name try2 --dir /tmp/try2

Options:
  -h --help               Show this screen.
     --name=<NAME>        The lab's name [default: the topology's name]. Namespaces
                          are tl-<NAME>-<thing>.
     --dir=<DIR>          The lab's directory: datastore, logs, configs, state.json
                          [default: /var/run/tortie/lab/<NAME>].
     --replace            Replace a lab of the same name that is still running.
     --timeout=<SECONDS>  How long BGP sessions may take to be Established [default: 60].
     --keep-on-error      If up fails, leave the lab as it is to look at it (then
                          tortie lab down).
  -c --count=<N>          Pings to send [default: 3].

Description:
  up builds the topology (a YAML file, or the name of a shipped example in
  examples/lab/) in network namespaces, starts its etcd if the datastore is
  one, BIRD or FRR on its routers and one tortie agent per host (from the
  built dist/: run npm run build first), applies its resources, waits until
  every BGP session is Established, adds its pods through the CNI plugin, and
  leaves everything running. Ctrl-C during up removes what was built.

  status shows the datastore, each host's agent and BGP sessions, the pods,
  and what the routers learned. exec runs a command in a host's, router's,
  VM's, pod's or the etcd's namespace (a shell without one), with the lab's
  datastore in its environment. ping pings from one of them to another
  (or to an address) and exits 0 when replies came back. down stops every
  process of the lab and removes its namespaces and directory; it also
  cleans up after a lab whose up crashed.
`;
