#define BOOST_TEST_MODULE pci_address
#include <boost/test/unit_test.hpp>

#include <unordered_set>

#include "sysfs/pci_address.h"

using vfio::PciAddress;

BOOST_AUTO_TEST_CASE(parses_the_kernel_spelling) {
  auto a = PciAddress::parse("0000:01:00.1");
  BOOST_REQUIRE(a);
  BOOST_TEST(a->domain() == 0u);
  BOOST_TEST(a->bus() == 1);
  BOOST_TEST(a->device() == 0);
  BOOST_TEST(a->function() == 1);
  BOOST_TEST(a->str() == "0000:01:00.1");
}

BOOST_AUTO_TEST_CASE(wide_domains_and_upper_case_are_accepted_and_canonicalised) {
  BOOST_TEST(PciAddress::parse("10000:e1:1f.7")->str() == "10000:e1:1f.7");
  BOOST_TEST(PciAddress::parse("0000:AF:1F.3")->str() == "0000:af:1f.3");
  BOOST_TEST(PciAddress::parse("ffffffff:ff:1f.7")->domain() == 0xffffffffu);
}

BOOST_AUTO_TEST_CASE(rejects_everything_else) {
  for (const char* bad :
       {"", "0000:01:00", "000:01:00.0", "000000000:01:00.0", "0000:1:00.0", "0000:001:00.0",
        "0000:01:20.0", "0000:01:00.8", "0000:01:00.10", "0000:01:0g.0", "0000-01-00.0",
        "0000:01:00.0\n", " 0000:01:00.0", "0000:01:00.0/..", "../../etc", "0000:01:00.-1",
        "+000:01:00.0", "0000:01.00:0"}) {
    std::string why;
    BOOST_TEST(!PciAddress::parse(bad, &why), bad);
    BOOST_TEST(!why.empty());
  }
}

BOOST_AUTO_TEST_CASE(rejects_an_embedded_nul) {
  BOOST_TEST(!PciAddress::parse(std::string("0000:01:00.0\0", 13)));
  BOOST_TEST(!PciAddress::parse(std::string("0000:01:00\0.0", 13)));
}

BOOST_AUTO_TEST_CASE(short_form_gets_a_suggestion) {
  std::string why;
  BOOST_TEST(!PciAddress::parse("01:00.0", &why));
  BOOST_TEST(why.find("did you mean '0000:01:00.0'") != std::string::npos, why);
}

BOOST_AUTO_TEST_CASE(orders_by_domain_bus_device_function_and_hashes) {
  auto a = *PciAddress::parse("0000:00:1f.0");
  auto b = *PciAddress::parse("0000:01:00.0");
  auto c = *PciAddress::parse("0001:00:00.0");
  BOOST_TEST((a < b));
  BOOST_TEST((b < c));
  std::unordered_set<PciAddress> set{a, b, c, a};
  BOOST_TEST(set.size() == 3u);
}

BOOST_AUTO_TEST_CASE(routing_id_round_trips) {
  auto pf = *PciAddress::parse("0000:3b:00.0");
  BOOST_TEST(pf.routing_id() == 0x3b00);
  BOOST_TEST(PciAddress::from_routing_id(0, 0x3b11).str() == "0000:3b:02.1");
}
