#define BOOST_TEST_MODULE drover
#include <boost/test/unit_test.hpp>
