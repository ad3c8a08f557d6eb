#!/usr/bin/perl
# SCRAM-SHA-256 against an IMAP server with Authen::SCRAM::Client (Debian's
# libauthen-scram-perl: an implementation independent of tidemark's).
# Usage: scram_perl.pl PORT USER PASSWORD. Prints the server's lines and
# whether the server signature verified. Bounded by a 20 s alarm.
use strict; use warnings;
alarm 20;
use IO::Socket::INET; use MIME::Base64; use Authen::SCRAM::Client;
my ($port, $user, $pass) = @ARGV;
my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port") or die "connect: $!";
my $greeting = <$s>;
my $c = Authen::SCRAM::Client->new(username => $user, password => $pass, digest => 'SHA-256');
my $first = $c->first_msg();
print $s "a1 AUTHENTICATE SCRAM-SHA-256 " . encode_base64($first, "") . "\r\n";
my $line = <$s>; print "S: $line";
$line =~ /^\+ (\S*)/ or die "no challenge: $line";
my $final = $c->final_msg(decode_base64($1));
print $s encode_base64($final, "") . "\r\n";
$line = <$s>; print "S: $line";
if ($line =~ /^\+ (\S+)/) {
    my $ok = eval { $c->validate(decode_base64($1)) };
    print "server signature ", ($ok ? "valid" : "INVALID $@"), "\n";
    print $s "\r\n";
    $line = <$s>; print "S: $line";
}
