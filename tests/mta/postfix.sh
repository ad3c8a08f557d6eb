#!/usr/bin/env bash
# A private Postfix instance for tests: its own config and queue under DIR,
# SMTP on 127.0.0.1:SMTP_PORT only, every address of example.org handed to
# tidemark over LMTP at 127.0.0.1:LMTP_PORT (virtual_transport).
#   postfix.sh start DIR SMTP_PORT LMTP_PORT
#   postfix.sh stop DIR
# Needs root (Postfix drops to its mail_owner) and Debian's postfix package.
set -euo pipefail
cmd=$1 dir=$2
case "$cmd" in
start)
  smtp_port=$3 lmtp_port=$4
  mkdir -p "$dir/etc" "$dir/queue" "$dir/data"
  chown postfix "$dir/data"
  # Debian's master.cf with our SMTP port, nothing chrooted (the chroot
  # would need a copy of /etc files) and the log service for maillog_file.
  awk -v port="$smtp_port" '
    /^#/ || /^[ \t]/ || NF < 8 { print; next }
    { if ($1 == "smtp" && $2 == "inet") $1 = "127.0.0.1:" port; $5 = "n"; print }
  ' /etc/postfix/master.cf > "$dir/etc/master.cf"
  grep -q '^postlog' "$dir/etc/master.cf" ||
    echo 'postlog   unix-dgram n  -       n       -       1       postlogd' >> "$dir/etc/master.cf"
  cat > "$dir/etc/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
maillog_file = $dir/maillog
maillog_file_prefixes = $dir
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.test.invalid
mydomain = test.invalid
myorigin = \$myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
virtual_mailbox_domains = example.org
virtual_transport = lmtp:inet:127.0.0.1:$lmtp_port
lmtp_destination_recipient_limit = 50
alias_maps =
alias_database =
local_recipient_maps =
smtpd_banner = \$myhostname ESMTP test
biff = no
# Deliver at once, never wait for a retry in tests.
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
CONF
  postfix -c "$dir/etc" check
  postfix -c "$dir/etc" start
  ;;
stop)
  postfix -c "$dir/etc" stop || true
  ;;
*)
  echo "usage: $0 start DIR SMTP_PORT LMTP_PORT | stop DIR" >&2
  exit 2
  ;;
esac
