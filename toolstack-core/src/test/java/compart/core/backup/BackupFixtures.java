package compart.core.backup;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;

/** Backups for the format's tests: small chunks and a cheap scrypt cost, so a test runs in a second. */
final class BackupFixtures {

    static final ScryptCost CHEAP = new ScryptCost(10, 8, 1);
    static final byte[] PASSPHRASE = "correct horse battery staple".getBytes(StandardCharsets.UTF_8);
    static final long CHUNK = 256 * 1024;

    private BackupFixtures() {
    }

    /** A qubes.xml with one qube {@code work} in {@code backupPath}, its private volume's id {@code vid}. */
    static byte[] qubesXml(String backupPath, String vid) {
        return ("""
                <?xml version='1.0' encoding='UTF-8'?>
                <qubes version="3.0">
                  <labels>
                    <label id="label-1" color="0xcc0000">red</label>
                    <label id="label-8" color="0x000000">black</label>
                  </labels>
                  <pools><pool driver="file" dir_path="/var/lib/qubes" name="varlibqubes"/></pools>
                  <properties/>
                  <domains>
                    <domain id="domain-0" class="AdminVM">
                      <properties><property name="label">black</property></properties>
                      <features/>
                    </domain>
                    <domain id="domain-1" class="StandaloneVM">
                      <properties>
                        <property name="qid">1</property>
                        <property name="name">work</property>
                        <property name="label">red</property>
                      </properties>
                      <features>
                        <feature name="backup-content">1</feature>
                        <feature name="backup-path">%s</feature>
                        <feature name="backup-size">3145728</feature>
                      </features>
                      <tags><tag name="created-by-test"/></tags>
                      <volume-config>
                        <volume name="private" pool="varlibqubes" vid="%s" size="3145728" rw="True"
                                save_on_stop="True" snap_on_start="False" revisions_to_keep="0"/>
                      </volume-config>
                    </domain>
                  </domains>
                </qubes>
                """).formatted(backupPath, vid).getBytes(StandardCharsets.UTF_8);
    }

    /** 3 MiB: random, then zeros, then random (several chunks even compressed). */
    static byte[] volume() {
        return image(3, 26, 0, 2);
    }

    /**
     * An image of {@code mib} MiB, zeros but for 1 MiB of random bytes at each MiB offset of {@code randomAt}.
     *
     * @param seed the random bytes' seed
     */
    static byte[] image(int mib, long seed, int... randomAt) {
        byte[] v = new byte[mib * 1024 * 1024];
        Random r = new Random(seed);
        byte[] a = new byte[1024 * 1024];
        for (int at : randomAt) {
            r.nextBytes(a);
            System.arraycopy(a, 0, v, at * 1024 * 1024, a.length);
        }
        return v;
    }

    /** Writes a backup of {@link #qubesXml} and {@link #volume} as {@code vm1/private.img}. */
    static void write(Path file, byte[] qubesXml, byte[] volume) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
             BackupWriter w = new BackupWriter(ch, PASSPHRASE, BackupHeader.version4("20261207T171000-26", true),
                     CHEAP, CHUNK)) {
            w.addFile("qubes.xml", qubesXml);
            w.addFile("vm1/private.img", volume.length, new ByteArrayInputStream(volume), n -> { });
        }
    }
}
