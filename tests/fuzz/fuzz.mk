# The fuzzers' build, driven by tests/fuzz/build.sh (which sets every variable below):
#   make -f tests/fuzz/fuzz.mk SRCROOT=<repo> FUZZDIR=<repo>/tests/fuzz OUT=<dir> LIBSRCS="src/a.c ..." TARGETS="http ..."
# The library sources are compiled once with -fsanitize=fuzzer-no-link (coverage, no main);
# each target links them with -fsanitize=fuzzer. Dependency files keep rebuilds incremental.
CC		?= clang
PKGS		 = json-c libcurl libcrypto sqlite3 libqrencode
PKG_CFLAGS	:= $(shell pkg-config --cflags $(PKGS))
PKG_LIBS	:= $(shell pkg-config --libs $(PKGS))
SAN		 = -fsanitize=address,undefined -fno-sanitize-recover=undefined
CFLAGS_FUZZ	 = -std=c11 -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE \
		   -I$(SRCROOT)/src -I$(FUZZDIR) $(PKG_CFLAGS) \
		   -Wall -Wextra -Wno-unused-parameter -Wno-unused-function
LIBOBJS		 = $(patsubst %.c,$(OUT)/obj/%.o,$(LIBSRCS))
BINS		 = $(patsubst %,$(OUT)/fuzz_%,$(TARGETS))

# Per-target link flags: the DynamoDB target answers every HTTP call itself.
LDFLAGS_ddb	 = -Wl,--wrap=transport_perform

all: $(BINS)

$(OUT)/obj/%.o: $(SRCROOT)/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_FUZZ) $(SAN) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(OUT)/libfileshare-fuzz.a: $(LIBOBJS)
	@rm -f $@
	ar cr $@ $(LIBOBJS)

$(OUT)/fuzz_%.o: $(FUZZDIR)/fuzz_%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_FUZZ) $(SAN) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(OUT)/fuzz_%: $(OUT)/fuzz_%.o $(OUT)/libfileshare-fuzz.a
	$(CC) $(SAN) -fsanitize=fuzzer $< $(OUT)/libfileshare-fuzz.a $(LDFLAGS_$*) $(PKG_LIBS) -lm -o $@

.PRECIOUS: $(OUT)/fuzz_%.o $(OUT)/obj/%.o
.PHONY: all

-include $(LIBOBJS:.o=.d) $(patsubst %,$(OUT)/fuzz_%.d,$(TARGETS))
