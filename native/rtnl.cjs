// Loads the synchronous rtnetlink addon (built by scripts/setup.sh with node-gyp).
module.exports = require('./build/Release/tortie_rtnl.node');
