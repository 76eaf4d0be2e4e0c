// Loads the compiled addon (built by node-gyp when npm installs this package).
module.exports = require('./build/Release/tortie_tcp_md5.node');
