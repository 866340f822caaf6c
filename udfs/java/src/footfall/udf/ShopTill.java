package footfall.udf;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.types.Row;

/**
 * shop_till(mall_id, shop_code): what a till's transaction is checked against, one row for a
 * mall the layout holds (none for an unknown mall): the mall's time zone and currency, and
 * the shop's name (null for a shop the mall does not have).
 */
@FunctionHint(output = @DataTypeHint("ROW<tz STRING, currency STRING, shop_name STRING>"))
public class ShopTill extends LayoutFunction {
    public void eval(String mallId, String shopCode) {
        String tz = layout.mallZone(mallId);
        if (tz != null) {
            collect(Row.of(tz, layout.mallCurrency(mallId), layout.shopName(mallId, shopCode)));
        }
    }
}
