#!/usr/bin/perl
# Writes a synthetic GeoIP2-City database for the analytics benchmark: NETWORKS random IPv4
# /24 networks (default 100000) over 40 countries with 5 cities each, IPv6 tree aliased to IPv4
# like GeoLite2, so a lookup walks a tree of realistic depth.
# Usage: perl make_bench_mmdb.pl OUT_FILE [NETWORKS]
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my $out = shift @ARGV or die "usage: $0 OUT_FILE [NETWORKS]\n";
my $count = shift @ARGV // 100000;
srand(42);

my %key_types = (
    city => 'map', country => 'map', names => 'map', en => 'utf8_string',
    iso_code => 'utf8_string', geoname_id => 'uint32',
);
my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version => 6, record_size => 28, database_type => 'GeoIP2-City',
    languages => ['en'], description => { en => 'kurz benchmark database' },
    map_key_type_callback => sub { $key_types{ $_[0] } },
    alias_ipv6_to_ipv4 => 1, remove_reserved_networks => 0,
);
my @countries = qw(US DE GB FR JP BR IN CA AU NL SE ES IT PL KR MX RU CN TR ID
                   AR ZA NG EG SA AE SG CH AT BE DK NO FI IE PT GR CZ HU RO UA);
my %seen;
for (1 .. $count) {
    my $net;
    do { $net = join('.', 1 + int(rand(222)), int(rand(256)), int(rand(256)), 0) } while $seen{$net}++;
    my $cc = $countries[ int(rand(@countries)) ];
    my $city = "$cc City " . int(rand(5));
    $tree->insert_network("$net/24", {
        country => { iso_code => $cc, names => { en => $cc } },
        city => { geoname_id => 1, names => { en => $city } },
    });
}
open my $fh, '>:raw', $out or die "$out: $!\n";
$tree->write_tree($fh);
close $fh;
