import java.io.FileInputStream;
import java.util.Properties;

/** Prints each property of a file as java.util.Properties reads it: key, then its value as UTF-16 hex. */
public class ReadProperties {
    public static void main(String[] args) throws Exception {
        Properties properties = new Properties();
        try (FileInputStream in = new FileInputStream(args[0])) {
            properties.load(in);  // ISO-8859-1, as Properties reads a stream
        }
        for (String key : properties.stringPropertyNames()) {
            StringBuilder hex = new StringBuilder();
            for (char c : properties.getProperty(key).toCharArray()) {
                hex.append(String.format("%04x", (int) c));
            }
            System.out.println(key + " " + hex);
        }
    }
}
