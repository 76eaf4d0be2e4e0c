{
  "targets": [
    {
      "target_name": "tortie_tcp_md5",
      "sources": ["tcp_md5.c"],
      "cflags": ["-O2", "-Wall"]
    },
    {
      "target_name": "tortie_rtnl",
      "sources": ["rtnl.c"],
      "cflags": ["-O2", "-Wall"]
    }
  ]
}
