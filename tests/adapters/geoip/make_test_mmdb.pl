#!/usr/bin/perl
# Writes the small MaxMind-format databases the GeoIP tests read, into OUT_DIR:
#   test-city.mmdb     GeoIP2-City layout, IPv6 tree with ::ffff:0:0/96 aliased to IPv4 (GeoLite2)
#   test-country.mmdb  GeoIP2-Country layout (no city), IPv6 tree without the alias
#   test-city-v4.mmdb  GeoIP2-City layout, IPv4-only tree
# Usage: perl make_test_mmdb.pl OUT_DIR
use strict;
use warnings;
use utf8;    # the city names below are UTF-8 literals
use MaxMind::DB::Writer::Tree;

my $out_dir = shift @ARGV or die "usage: $0 OUT_DIR\n";

# The writer needs the type of every map key it meets.
my %key_types = (
    city               => 'map',
    country            => 'map',
    registered_country => 'map',
    names              => 'map',
    en                 => 'utf8_string',
    iso_code           => 'utf8_string',
    geoname_id         => 'uint32',
);

sub place {
    my (%args) = @_;
    my %record;
    $record{country} = { iso_code => $args{country}, names => { en => $args{country} } }
        if $args{country};
    $record{registered_country} = { iso_code => $args{registered} } if $args{registered};
    $record{city} = { geoname_id => 1, names => { en => $args{city} } } if $args{city};
    return \%record;
}

# Network => record, shared by every database; IPv6 ones are skipped in the IPv4-only tree.
my @networks = (
    [ '81.2.69.0/24'     => place(country => 'GB', registered => 'GB', city => 'London') ],
    [ '89.160.20.0/24'   => place(country => 'SE', registered => 'SE', city => 'Linköping') ],
    [ '203.0.113.0/24'   => place(country => 'JP', registered => 'JP') ],
    [ '198.51.100.0/24'  => place(registered => 'US') ],    # anycast-like: no country of its own
    [ '2001:db8::/32'    => place(country => 'DE', registered => 'DE', city => 'Berlin') ],
    [ '2001:db9:1::/48'  => place(registered => 'FR') ],
);

sub write_db {
    my ($file, %opts) = @_;
    my $tree = MaxMind::DB::Writer::Tree->new(
        ip_version               => $opts{ip_version},
        record_size              => 24,
        database_type            => $opts{type},
        languages                => ['en'],
        description              => { en => "kurz test $opts{type} database" },
        map_key_type_callback    => sub { $key_types{ $_[0] } },
        alias_ipv6_to_ipv4       => $opts{alias} ? 1 : 0,
        remove_reserved_networks => 0,    # the test networks are documentation ranges
    );
    for my $entry (@networks) {
        my ($network, $record) = @$entry;
        next if $opts{ip_version} == 4 && $network =~ /:/;
        my %copy = %$record;
        delete $copy{city} if $opts{no_city};
        $tree->insert_network($network, \%copy);
    }
    open my $fh, '>:raw', "$out_dir/$file" or die "cannot write $out_dir/$file: $!\n";
    $tree->write_tree($fh);
    close $fh or die "cannot close $out_dir/$file: $!\n";
}

write_db('test-city.mmdb',    type => 'GeoIP2-City',    ip_version => 6, alias => 1);
write_db('test-country.mmdb', type => 'GeoIP2-Country', ip_version => 6, no_city => 1);
write_db('test-city-v4.mmdb', type => 'GeoIP2-City',    ip_version => 4);
